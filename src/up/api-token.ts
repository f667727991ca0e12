// The API token of an `ozy up` cluster: OZY_API_TOKEN when the caller set
// it, else a random one made for this run. The agents get it in their
// environment; it is kept in `<state-dir>/api-token` with mode 0600 so that
// `ozy logs` on the same machine (same user) finds it without being told.
// It is never printed or logged.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const API_TOKEN_FILE = 'api-token';

/** The token for this run, written to the state dir (0600). */
export function ensureApiToken(stateDir: string, env: NodeJS.ProcessEnv): string {
  const token = env.OZY_API_TOKEN !== undefined && env.OZY_API_TOKEN !== '' ? env.OZY_API_TOKEN : randomBytes(32).toString('base64url');
  const file = path.join(stateDir, API_TOKEN_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.mkdirSync(stateDir, { recursive: true });
  // Created 0600 (not chmod-ed after): the token is never readable by others, even for a moment.
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  return token;
}

/** The token a running `ozy up` recorded in `stateDir`, if readable. */
export function readApiToken(stateDir: string): string | undefined {
  try {
    const t = fs.readFileSync(path.join(stateDir, API_TOKEN_FILE), 'utf8').trim();
    return t === '' ? undefined : t;
  } catch {
    return undefined;
  }
}
