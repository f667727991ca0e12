// Registry credentials from the environment (OZY_REGISTRY_AUTH), and the
// rule deciding which pulls may carry them. Credentials are sent only to
// the registry they were given for: a job file can name any registry, and
// sending our password to a registry chosen by a job author would leak it.
// Nothing here ever puts a username or password into an error message.
import { RegistryAuthConfigError } from './errors';
import { DEFAULT_REGISTRY } from './image-ref';

export interface RegistryAuth {
  username: string;
  password: string;
  /** Registry host[:port] (a URL is accepted); docker.io when absent. */
  serveraddress: string;
}

/**
 * Parses OZY_REGISTRY_AUTH: `{"username","password","serveraddress"}` or a
 * list of them. Undefined or empty → no credentials.
 */
export function parseRegistryAuth(text: string | undefined): RegistryAuth[] {
  if (text === undefined || text.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RegistryAuthConfigError('OZY_REGISTRY_AUTH is not valid JSON');
  }
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    const where = Array.isArray(value) ? `OZY_REGISTRY_AUTH[${i}]` : 'OZY_REGISTRY_AUTH';
    if (item === null || typeof item !== 'object') throw new RegistryAuthConfigError(`${where} must be an object`);
    const o = item as Record<string, unknown>;
    if (typeof o.username !== 'string' || typeof o.password !== 'string') {
      throw new RegistryAuthConfigError(`${where} needs string "username" and "password"`);
    }
    if (o.serveraddress !== undefined && typeof o.serveraddress !== 'string') {
      throw new RegistryAuthConfigError(`${where}.serveraddress must be a string`);
    }
    return { username: o.username, password: o.password, serveraddress: o.serveraddress ?? DEFAULT_REGISTRY };
  });
}

/** The credentials to send when pulling from `registry`, if any. */
export function authFor(registry: string, auths: readonly RegistryAuth[]): RegistryAuth | undefined {
  const want = normalizeRegistry(registry);
  return auths.find((a) => normalizeRegistry(a.serveraddress) === want);
}

/** `https://index.docker.io/v1/` → `docker.io`; `http://127.0.0.1:5000/` → `127.0.0.1:5000`. */
export function normalizeRegistry(address: string): string {
  const host = address
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === '') return DEFAULT_REGISTRY;
  return host;
}
