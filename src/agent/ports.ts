// The narrow interfaces the agent's loops need from the outside world.
// The real implementations are src/source (git), src/store (etcd) and
// src/runtime (containers); unit tests pass fakes.
import type { CronState } from '../model/cron';
import type { AcceptedJob, NodeInfo, Rejection } from '../model/cluster';

export interface SourceFile {
  path: string;
  content: Uint8Array | string;
  kind?: 'file' | 'symlink';
  /** Set (with empty content) when the file was too large to read: the renderer refuses it by this size. */
  size?: number;
}

export interface GitPort {
  /** Fetch the tracked branch; returns its tip. */
  sync(): Promise<{ head: string }>;
  readFiles(
    commit: string,
    filter: (path: string) => boolean,
    previous?: { commit: string; files: SourceFile[] },
  ): Promise<{ files: SourceFile[]; changed: string[]; /** The commit's parents, when known. */ parents?: string[] }>;
  /**
   * Make `<reportsDir>/` on `branch` equal `desired` (paths relative to
   * reportsDir; with prune, files not named are deleted). Returns the new
   * commit, or null when nothing differed.
   */
  syncReports(
    branch: string,
    reportsDir: string,
    desired: ReadonlyMap<string, string | null>,
    message: string,
    opts?: { prune?: boolean },
  ): Promise<string | null>;
  /** True when `ancestor` is `descendant` or one of its ancestors (both known locally). */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
}

export interface ScheduleMeta {
  commit: string;
  at: string;
  by: string;
}

export interface Snapshot {
  revision: number;
  /** The last revision that changed what a decision reads (a watch-fed view knows it; default: revision). */
  inputsRevision?: number;
  /** mod_revision of the /schedule guard key (0 if never written). */
  scheduleRevision: number;
  schedule?: ScheduleMeta;
  /** The schedule revision whose rejections the repository's reports reflect. */
  reportsRevision: number;
  nodes: NodeInfo[];
  /** Every zone a node ever registered with (spread: zones homes). */
  zones?: string[];
  jobs: Map<string, AcceptedJob>;
  rejections: Map<string, Rejection>;
  /** Cron jobs' active runs (what they hold counts as used). */
  runs?: ReadonlyMap<string, CronState>;
  /** The last revision at which only cron runs changed. */
  runsRevision?: number;
  /**
   * The last revision that changed the nodes or the known zones: writes the
   * schedule guard does not cover (a lease expires at any moment). A
   * watch-fed view knows it; default: revision.
   */
  nodesRevision?: number;
}

export interface ScheduleWrites {
  putJobs: AcceptedJob[];
  deleteJobs: string[];
  putRejections: Rejection[];
  deleteRejections: string[];
  /**
   * The accepted jobs the decision read (etcd's at the guard revision), by
   * name: a round needing several transactions is ordered from them so that
   * every revision stays within capacity. Only written jobs are looked up.
   */
  readJobs: ReadonlyMap<string, AcceptedJob>;
}

export interface StorePort {
  snapshot(): Promise<Snapshot>;
  commitSchedule(
    guardRevision: number,
    writes: ScheduleWrites,
    meta: { commit: string; by: string },
  ): Promise<{ ok: true; revision: number } | { ok: false }>;
  markReportsPushed(scheduleRevision: number): Promise<void>;
  /** Adds a zone to the known zones (best effort; absent in fakes that do not keep zones). */
  rememberZone?(zone: string): Promise<void>;
}
