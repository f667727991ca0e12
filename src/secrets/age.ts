// The only age-encryption user (typage, the age reference implementation's
// author's TypeScript port): decrypting secrets with an agent's identity and
// encrypting them to a repository's recipients. Reads files made by the
// `age` CLI, binary or armored, and writes armored files the CLI reads.
import * as fs from 'node:fs';
import type * as AgeLib from 'age-encryption';

let ageLib: typeof AgeLib | undefined;

/**
 * typage, loaded on first use: every agent process imports this module (for
 * SecretIdentityError and SecretIdentity.load), but only one started with
 * --secrets-identity decrypts, and only `ozy secret` encrypts; loading the
 * library up front was about a seventh of an agent's start-up.
 */
function age(): typeof AgeLib {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (ageLib ??= require('age-encryption') as typeof AgeLib);
}

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';

export class SecretIdentityError extends Error {}

/** An agent's age identity (`--secrets-identity`): what decrypts the repository's secrets. */
export class SecretIdentity {
  private constructor(
    private readonly keys: string[],
    readonly file: string,
  ) {}

  /**
   * Reads `file` (lines `AGE-SECRET-KEY-1…`, `#` comments, as age-keygen
   * writes them). Refused unless only its owner may read it: an identity
   * others can read is as good as published.
   */
  static load(file: string): SecretIdentity {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (err) {
      throw new SecretIdentityError(`--secrets-identity ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (!st.isFile()) throw new SecretIdentityError(`--secrets-identity ${file}: not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new SecretIdentityError(`--secrets-identity ${file}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets others read it; run chmod 600 ${file}`);
    }
    const keys = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('AGE-SECRET-KEY-'));
    if (keys.length === 0) throw new SecretIdentityError(`--secrets-identity ${file}: no AGE-SECRET-KEY-1… line (make one with age-keygen)`);
    return new SecretIdentity(keys, file);
  }

  /** The recipients (public keys) of this identity's keys, for `ozy.yaml`. */
  async recipients(): Promise<string[]> {
    return Promise.all(this.keys.map((k) => age().identityToRecipient(k)));
  }

  /** The plaintext of an age file (binary or armored), exactly; throws a message without any of it. */
  async decrypt(file: Uint8Array): Promise<string> {
    const d = new (age().Decrypter)();
    for (const k of this.keys) d.addIdentity(k);
    let bytes: Uint8Array;
    try {
      bytes = await d.decrypt(unarmor(file));
    } catch (err) {
      throw new Error(ageMessage(err));
    }
    const text = Buffer.from(bytes).toString('utf8');
    if (text.includes('\0')) throw new Error('the value holds a NUL byte, which no environment variable can');
    return text;
  }
}

/** `value` encrypted to `recipients`, armored (text diffs well in git). */
export async function encryptSecret(value: string, recipients: readonly string[]): Promise<string> {
  const e = new (age().Encrypter)();
  for (const r of recipients) e.addRecipient(r);
  return age().armor.encode(await e.encrypt(value));
}

function unarmor(file: Uint8Array): Uint8Array {
  const head = Buffer.from(file.subarray(0, 64)).toString('utf8');
  if (!head.trimStart().startsWith(ARMOR_BEGIN)) return file;
  return age().armor.decode(Buffer.from(file).toString('utf8'));
}

/** typage's errors, as a user reads them ("no identity matched any of the recipients"). */
function ageMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  if (/no identity matched/i.test(m)) return 'not encrypted to this agent\'s identity (add its recipient to ozy.yaml secrets.recipients and encrypt again)';
  return `not a valid age file (${m})`;
}
