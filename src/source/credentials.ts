// Credentials for git over HTTP(S): where they come from, how they are sent,
// and how they are kept out of every message we produce. Pure functions.

/**
 * Username sent with a token when none is configured. GitHub, GitLab, Gitea
 * and Bitbucket accept a personal access / deploy token as the HTTP Basic
 * password with any non-empty username; `x-access-token` is GitHub's own
 * convention and harmless elsewhere.
 */
export const DEFAULT_TOKEN_USERNAME = 'x-access-token';

export interface HttpCredentials {
  username: string;
  password: string;
}

/** A repository URL split into the URL we use (no userinfo) and any credentials it carried. */
export interface SplitUrl {
  url: string;
  username?: string;
  password?: string;
}

/**
 * Removes `user:pass@` from an http(s) URL so that the credentials never
 * reach isomorphic-git's config, our logs or our errors; they are returned
 * separately and sent as a header instead.
 */
export function splitUrlCredentials(raw: string): SplitUrl {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { url: raw };
  }
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.username = '';
  parsed.password = '';
  const url = parsed.toString().replace(/\/+$/, '');
  const out: SplitUrl = { url };
  if (username !== undefined) out.username = username;
  if (password !== undefined) out.password = password;
  return out;
}

/**
 * The credentials to send, if any. A token (OZY_GIT_TOKEN) wins over a
 * password embedded in the URL; the username is the configured one, else the
 * URL's, else DEFAULT_TOKEN_USERNAME.
 */
export function resolveCredentials(
  split: SplitUrl,
  token: string | undefined,
  username: string | undefined,
): HttpCredentials | undefined {
  const password = token ?? split.password;
  if (!password) return undefined;
  return { username: username ?? split.username ?? DEFAULT_TOKEN_USERNAME, password };
}

export function basicAuthHeader(c: HttpCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/**
 * Every form in which a secret could appear in text we did not write
 * ourselves: raw, URL-encoded, and inside a Basic authorization header.
 */
export function secretForms(c: HttpCredentials | undefined): string[] {
  if (!c) return [];
  const forms = [c.password, encodeURIComponent(c.password), basicAuthHeader(c).slice('Basic '.length)];
  return [...new Set(forms.filter((s) => s.length > 0))];
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;

/** `text` with URL userinfo and every given secret replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(URL_USERINFO, '$1***@');
  // Longest first, so a secret that contains another is replaced whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s) out = out.split(s).join('***');
  }
  return out;
}
