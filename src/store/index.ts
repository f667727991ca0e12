// The cluster store: the only module that talks to etcd (through etcd3).
//
//   ClusterStore.connect({ endpoints })        lazy client, never throws on an unreachable etcd;
//                                              `tls` and `auth` for a secured etcd (etcd-access.ts)
//   registerNode(...) → NodeSession            the node's lease + keepalive ('lost' = fence yourself)
//   snapshot() → ClusterSnapshot               nodes, jobs, rejections, guard revision at ONE revision
//   commitSchedule(guard, writes, meta)        guarded txn(s), several in a safe order (writes.readJobs);
//                                              {ok:false} = someone else won, re-read
//   watchJobs / watchNodes                     change feeds that survive reconnects and compaction
//   mirrorJobs / mirrorInstanceStatus / mirrorDnsRecords   a prefix kept in memory (list + watch + re-list)
//   put/list InstanceStatus, DnsRecord, AgentStatus   per-node keys on the node's lease
//   publishNodeCpu / readNodeCpu / openCpuMirror      per-node CPU measurements (autoscaling), on the lease
//
// Keys: docs/architecture.md "etcd key layout" (see keys.ts). Errors: errors.ts.
export {
  ClusterStore,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MIN_LEASE_TTL_SECONDS,
  type ClusterSnapshot,
  type CommitResult,
  type CpuMirror,
  type JobChange,
  type NodeChange,
  type NodeRegistration,
  type PollerClaim,
  type PollerView,
  type RegisterOptions,
  type ScheduleWrites,
  type StoreOptions,
} from './cluster-store';
export { CronStore, type CronCommit, type CronWrites, type ExitInput, type ExitReport, type RunsView } from './cron-store';
export { ScheduleCache, type ScheduleCacheChange, type ScheduleCacheHandlers } from './schedule-cache';
export type { NodeSession, SessionEvents, Clock } from './session';
export type { WatchChange, WatchHandlers, StopWatch } from './watch';
export type { Mirror, MirrorHandlers } from './prefix-mirror';
export type { DnsRecord, ScheduleMark } from './codec';
export { checkAccess, type EtcdAccess, type EtcdAuth, type EtcdTls } from './etcd-access';
export { KeyLayout, dnsKey, checkSegment, DEFAULT_PREFIX, DEFAULT_DNS_PREFIX } from './keys';
export { MAX_WRITES_PER_TXN, MAX_TXN_PAYLOAD_BYTES, ETCD_MAX_REQUEST_BYTES } from './chunks';
export * from './errors';
