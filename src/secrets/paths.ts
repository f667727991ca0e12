// Where a repository keeps its secrets: `secrets/<name>.age`, one age file
// per secret (DESIGN.md "Secrets").
export const SECRETS_DIR = 'secrets';

/** An age file of at most this size (a secret is a password or a key, not a payload). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

const SECRET_PATH = /^secrets\/([A-Za-z0-9][-A-Za-z0-9_.]*)\.age$/;

/** True for `secrets/<name>.age` (directly under secrets/). */
export function isSecretPath(p: string): boolean {
  return SECRET_PATH.test(p);
}

/** The secret name of `secrets/<name>.age`, else undefined. */
export function secretNameOf(p: string): string | undefined {
  return SECRET_PATH.exec(p)?.[1];
}

export function secretPath(name: string): string {
  return `${SECRETS_DIR}/${name}.age`;
}
