// The one place problem details (RFC 9457) are built. Every problem type has
// an anchor in docs/errors.md; `type` is the URL of that anchor.
import type { Problem, ProblemFieldError } from './model/problem';

/**
 * Base URL of docs/errors.md: OZY_DOCS_URL (where you serve the docs; `ozy up`
 * sets it to its dashboard's /docs/errors.md, which every `ozy dashboard`
 * serves), else this file in the project's repository.
 */
export const DOCS_URL =
  process.env.OZY_DOCS_URL ?? 'https://github.com/ozymandias-scheduler/ozymandias/blob/main/docs/errors.md';

/**
 * Problem types: anchor → title. Adding a type means adding a section with
 * the same anchor to docs/errors.md (a unit test checks they match).
 */
export const PROBLEM_TYPES = {
  // Loading and parsing
  'unparsable-yaml': 'Job file is not valid YAML',
  'file-too-large': 'File is too large',
  'repository-too-large': 'Repository is too large',
  'unsafe-path': 'Unsafe path in repository',
  'symlink-refused': 'Symbolic links are not followed',
  'yaml-too-complex': 'YAML document is too complex',
  'unreadable-file': 'File cannot be read',
  // Schema and semantic validation
  'invalid-job': 'Job does not match the job schema',
  'invalid-job-name': 'Invalid job name',
  'job-name-mismatch': 'Job name does not match its file name',
  'duplicate-job-name': 'Job name is used more than once',
  'invalid-size': 'Invalid size',
  'invalid-cpu': 'Invalid CPU amount',
  'invalid-image': 'Invalid image reference',
  'invalid-port': 'Invalid port mapping',
  'invalid-environment': 'Invalid environment variable',
  'port-conflict-in-pod': 'Two containers of a pod use the same port',
  'unknown-dependency': 'depends_on names an unknown container',
  'dependency-cycle': 'depends_on has a cycle',
  'invalid-healthcheck': 'Invalid health check',
  'invalid-volume': 'Invalid volume',
  'invalid-ingress': 'Invalid ingress route',
  'ingress-conflict': 'Another job already has this ingress route',
  'invalid-update': 'Invalid update policy',
  'invalid-cron': 'Invalid cron job',
  'invalid-autoscale': 'Invalid autoscale policy',
  'secret-unavailable': 'A secret of the job is missing or cannot be decrypted',
  'invalid-settings': 'Invalid repository settings (ozy.yaml)',
  // Templates
  'template-error': 'Chart template failed to render',
  'invalid-chart': 'Invalid chart',
  // Scheduling
  'insufficient-memory': 'Insufficient memory for job',
  'insufficient-disk': 'Insufficient disk space for job',
  'insufficient-cpu': 'Insufficient CPU for job',
  'insufficient-resources': 'Insufficient resources for job',
  'host-port-conflict': 'Host port is not free on enough nodes',
  'no-nodes': 'No live nodes to place the job on',
  'no-eligible-nodes': 'No live node carries the labels the job asks for',
  'spread-conflict': 'Not enough nodes for one instance per node',
  'mass-deletion': 'Commit would delete most jobs',
  'update-failed': 'Update failed',
  'daemon-not-placed': 'Daemon does not fit on some nodes',
  'volume-node-unavailable': 'An instance waits for the node its persistent volume is on',
  // Answers of `ozy ingress` (response bodies, not reports)
  'ingress-no-route': 'No route for this host and path',
  'ingress-no-healthy-instance': 'No healthy instance serves this route',
  'ingress-backend-timeout': 'The instance did not answer in time',
  'ingress-bad-gateway': 'The instance failed the request',
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export function problemTypeUrl(type: ProblemType): string {
  return `${DOCS_URL}#${type}`;
}

export interface ProblemInit {
  detail: string;
  job?: string;
  file?: string;
  commit?: string;
  errors?: ProblemFieldError[];
  /** Extension members, e.g. `nodes: {name: reason}` for scheduling problems. */
  extra?: Record<string, unknown>;
}

export function makeProblem(type: ProblemType, init: ProblemInit): Problem {
  const p: Problem = { type: problemTypeUrl(type), title: PROBLEM_TYPES[type], detail: init.detail };
  if (init.job !== undefined) p.job = init.job;
  if (init.commit !== undefined) p.commit = init.commit;
  if (init.file !== undefined) p.file = init.file;
  if (init.errors !== undefined) p.errors = init.errors;
  if (init.extra) Object.assign(p, init.extra);
  return p;
}

/** The anchor part of a problem's `type` URL. */
export function problemTypeOf(p: Problem): string {
  const i = p.type.lastIndexOf('#');
  return i >= 0 ? p.type.slice(i + 1) : p.type;
}
