// Vocabulary of `ozy import compose` (docs/compose.md):
// - a *finding* is one compose key (by its dotted path in the compose file)
//   that was not carried over as written, and why;
// - `refused`: the job format deliberately cannot express it (privilege,
//   host access); `left-out`: not carried for another reason; both make the
//   import partial (exit 3). A `note` is carried, but the user should know
//   how (a default picked, a value that belongs in secrets, a renamed
//   service): it does not change the exit status.
import type { Job as JobRaw } from '../render/job-raw.generated';

export type FindingKind = 'refused' | 'left-out' | 'note';

export interface ComposeFinding {
  kind: FindingKind;
  /** Dotted path into the compose file, e.g. `services.web.ports[0].host_ip`. */
  path: string;
  why: string;
  /** The service it concerns, when it concerns one. */
  service?: string;
}

export interface ImportedJob {
  /** The job's name, also the file's base name: `jobs/<name>.yaml`. */
  name: string;
  /** The services it came from (one, or every service with `--pod`). */
  services: string[];
  job: JobRaw;
}

/** A job with the text of its file (header comments, then the job as YAML). */
export interface JobFile extends ImportedJob {
  text: string;
}

export interface ImportResult {
  jobs: JobFile[];
  /** In file order, per service. Values of environment variables never appear here. */
  findings: ComposeFinding[];
}

/** Why nothing can be imported at all (not a compose file, a `${VAR:?err}`…). */
export class ComposeError extends Error {
  override readonly name = 'ComposeError';
}

/** Finding kinds that leave something of the compose file behind. */
export function isLoss(f: ComposeFinding): boolean {
  return f.kind !== 'note';
}
