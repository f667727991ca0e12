// The inputs and outputs of one scheduling decision. Plain data: the
// caller (the agent's brain, or `ozy plan`) reads them from git and etcd
// and turns the Decision into one guarded etcd transaction.
import type { AcceptedJob, NodeInfo, Rejection } from '../model/cluster';
import type { CronState } from '../model/cron';
import type { DesiredJob } from '../model/job';
import type { Problem } from '../model/problem';
import type { InstanceHealth } from './rollout';

export interface ClusterView {
  /** Live nodes only (their lease is held). Instances on any other node are lost. */
  nodes: NodeInfo[];
  /** Every zone a node ever registered with (remembered in etcd), for spread: zones. */
  zones?: string[];
  /** Accepted jobs by name. */
  jobs: Map<string, AcceptedJob>;
  /** Existing rejections by key. */
  rejections: Map<string, Rejection>;
  /** Cron jobs' active runs by job: what their placed pods hold counts as used (cron/run-load.ts). */
  runs?: ReadonlyMap<string, CronState>;
}

/** A file the renderer could not turn into a job. */
export interface InvalidEntry {
  /** Report key: the job name when known, else the file path. */
  key: string;
  file: string;
  /** The job's name when it is known (the file parsed far enough). */
  job?: string;
  problem: Problem;
}

export interface DeletionGuardSettings {
  /** Largest share of accepted jobs one commit may delete (applies when more than 2 are accepted). */
  maxDeleteShare: number;
  /** The repository's explicit opt-in to deleting any number of jobs, all of them included. */
  allowDeleteAll: boolean;
}

export interface DecideInput {
  desired: DesiredJob[];
  invalid: InvalidEntry[];
  cluster: ClusterView;
  /** The git commit judged. */
  commit: string;
  now: Date;
  deletionGuard: DeletionGuardSettings;
  /**
   * What the rollout driver saw of the instances in rolling updates' batches,
   * by instance name. Without it (e.g. `ozy plan`) no batch is judged done.
   */
  health?: ReadonlyMap<string, InstanceHealth>;
  /** ozy.yaml `rebalance`: even out each job over the nodes (moves, maxParallel at a time). */
  rebalance?: boolean;
  /** The autoscaler's wanted count per autoscaled job (clamped to the file's bounds); absent: each keeps its count (plan/autoscale.ts). */
  autoscale?: ReadonlyMap<string, number>;
}

export const BUCKETS = [
  'create',
  'update',
  'scale-up',
  'scale-down',
  'delete',
  'unchanged',
  'invalid',
  'rejected',
  'reschedule',
] as const;
export type Bucket = (typeof BUCKETS)[number];

export interface JobOutcome {
  job: string;
  bucket: Bucket;
  /** Node of each ordinal after this decision (null: pending); absent for deleted or never-accepted jobs. */
  placements?: Array<string | null>;
  /** Why the job was rejected or invalid, or why some instances stay pending. */
  problem?: Problem;
  /** node → why it could not take an instance (every node, not capped). */
  nodeReasons?: Record<string, string>;
  /**
   * How an update reaches the running instances: `rolling` (batches of
   * `maxParallel`), `recreate` (all at once), `in place` (only the policy
   * changed: nothing restarts); `rolling k/n` for a rollout under way.
   */
  strategy?: string;
  /** spread: zones: instances per zone after this decision ('' for nodes without a zone). */
  zones?: Record<string, number>;
  /** spread: zones: instance name → why it runs outside its home zone ("away from zone b: zone b: no live node"). */
  away?: Record<string, string>;
  /** An autoscaled job: the count this decision keeps (placed or pending) and the file's bounds. */
  autoscale?: { count: number; min: number; max: number };
}

/** The exact writes of one decision, plus what to tell humans about it. */
export interface Decision {
  /** Jobs to write, sorted by name: each is spec + every placement, one key. */
  putJobs: AcceptedJob[];
  deleteJobs: string[];
  putRejections: Rejection[];
  deleteRejections: string[];
  /** One per job (and per invalid file), sorted by job name. Read-only: a quiet job's outcome is frozen and shared by the decisions that find it quiet (plan/quiet.ts). */
  outcomes: JobOutcome[];
  /** Outcomes per bucket, plus `pending`: instances left without a node. */
  counts: Record<string, number>;
}
