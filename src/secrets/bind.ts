// Binding a render's secret references to the repository's secret files
// (pure). The renderer judges each job file on its own and leaves every
// `{name, secret}` variable unbound; here each reference gets the SHA-256 and
// the bytes of `secrets/<name>.age`, so the job's pod hash changes when the
// file does (a changed secret rolls the job like any change). A job whose
// secret file is missing, too large, or (when `verdictOf` says so) cannot be
// decrypted becomes a `secret-unavailable` problem instead: the job is held
// at its accepted version, its report names the secret, never a value.
import { createHash } from 'node:crypto';
import { podTemplateHash } from '../model/hash';
import { isSecretEnv, type DesiredJob, type JobSpec } from '../model/job';
import type { ProblemFieldError } from '../model/problem';
import { makeProblem } from '../problems';
import type { RenderProblem, RenderResult } from '../render';
import { MAX_SECRET_FILE_BYTES, secretNameOf, secretPath } from './paths';

/** Secret name → the bytes of its file. */
export type SecretFiles = ReadonlyMap<string, Uint8Array>;

/** `secrets/<name>.age` files among a commit's files, by secret name (a file left unread for its size is absent). */
export function secretFilesOf(files: ReadonlyArray<{ path: string; content: Uint8Array | string; kind?: 'file' | 'symlink'; size?: number }>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of files) {
    const name = secretNameOf(f.path);
    if (name === undefined || f.kind === 'symlink' || f.size !== undefined) continue;
    out.set(name, typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content);
  }
  return out;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const NO_SECRETS: readonly string[] = Object.freeze([]);

/**
 * Specs are never mutated, and a render hands back the same spec objects
 * for unchanged files commit after commit: the poller asks about 5,000 of
 * them per render (~4 ms when each answer was a new Set and array).
 */
const secretNames = new WeakMap<JobSpec, readonly string[]>();

/** Names of the secrets `spec` refers to. */
export function secretsOf(spec: JobSpec): readonly string[] {
  let out = secretNames.get(spec);
  if (out === undefined) {
    const names = new Set<string>();
    for (const c of spec.containers) for (const e of c.environment) if (isSecretEnv(e)) names.add(e.secret.name);
    out = names.size === 0 ? NO_SECRETS : Object.freeze([...names]);
    secretNames.set(spec, out);
  }
  return out;
}

/**
 * `verdictOf(sha256)`: why the file with that hash cannot be decrypted, or
 * undefined when it can (or when nobody checked: `ozy validate`, `ozy plan`).
 */
export function bindSecrets(render: RenderResult, files: SecretFiles, commit?: string, verdictOf?: (sha256: string) => string | undefined): RenderResult {
  if (!render.jobs.some((d) => secretsOf(d.spec).length > 0)) return render;
  const jobs: DesiredJob[] = [];
  const problems: RenderProblem[] = [...render.problems];
  const shaOf = new Map<string, string>();
  const sha = (name: string, bytes: Uint8Array): string => {
    let h = shaOf.get(name);
    if (h === undefined) shaOf.set(name, (h = sha256Hex(bytes)));
    return h;
  };
  for (const d of render.jobs) {
    if (secretsOf(d.spec).length === 0) {
      jobs.push(d);
      continue;
    }
    const errors: ProblemFieldError[] = [];
    const containers = d.spec.containers.map((c) => ({
      ...c,
      environment: c.environment.map((e, i) => {
        if (!isSecretEnv(e)) return e;
        const name = e.secret.name;
        const pointer = `/containers/${c.name}/environment/${i}/secret`;
        const bytes = files.get(name);
        if (bytes === undefined) {
          errors.push({ pointer, message: `${e.name}: the secret "${name}" has no file ${secretPath(name)} in the repository` });
          return e;
        }
        if (bytes.length > MAX_SECRET_FILE_BYTES) {
          errors.push({ pointer, message: `${e.name}: ${secretPath(name)} is ${bytes.length} bytes; a secret file is at most ${MAX_SECRET_FILE_BYTES}` });
          return e;
        }
        const h = sha(name, bytes);
        const why = verdictOf?.(h);
        if (why !== undefined) {
          errors.push({ pointer, message: `${e.name}: ${secretPath(name)} cannot be decrypted: ${why}` });
          return e;
        }
        return { name: e.name, secret: { name, sha256: h, ciphertext: Buffer.from(bytes).toString('base64') } };
      }),
    }));
    if (errors.length > 0) {
      const name = d.spec.name;
      const detail = `job "${name}": ${errors.map((x) => x.message).join('; ')}. The running version stays.`;
      problems.push({ key: name, file: d.file, job: name, problem: makeProblem('secret-unavailable', { detail, job: name, file: d.file, ...(commit ? { commit } : {}), errors }) });
      continue;
    }
    const spec: JobSpec = { ...d.spec, containers };
    jobs.push({ ...d, spec, specHash: podTemplateHash(spec) });
  }
  problems.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { ...render, jobs, problems };
}
