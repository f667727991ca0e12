// What `ozy plan`, `ozy render` and `ozy status` print of a spec: every
// environment value replaced (a plain value may be a password someone put
// there anyway), a secret kept by name and hash without its ciphertext.
import type { AcceptedJob } from './cluster';
import { isSecretEnv, type JobSpec } from './job';

export const REDACTED = '(redacted)';

export function redactSpec(spec: JobSpec): JobSpec {
  if (!spec.containers.some((c) => c.environment.length > 0)) return spec;
  return {
    ...spec,
    containers: spec.containers.map((c) => ({
      ...c,
      environment: c.environment.map((e) => (isSecretEnv(e) ? { name: e.name, secret: { ...e.secret, ciphertext: '' } } : { name: e.name, value: REDACTED })),
    })),
  };
}

/** An accepted job with its spec and every older version's spec redacted. */
export function redactJob(job: AcceptedJob): AcceptedJob {
  const out: AcceptedJob = { ...job, spec: redactSpec(job.spec) };
  if (job.versions) out.versions = Object.fromEntries(Object.entries(job.versions).map(([h, v]) => [h, { ...v, spec: redactSpec(v.spec) }]));
  return out;
}
