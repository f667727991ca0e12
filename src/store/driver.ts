// The narrow interface the store needs from etcd. etcd-driver.ts implements
// it with etcd3 (with etcd-watch.ts, the only files that import etcd3);
// unit tests use fakes.
// Every method rejects only with StoreError subclasses.

export interface StoredKv {
  key: string;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  /** Decimal lease id, '0' when the key has none. */
  lease: string;
}

/** Conditions of a transaction; a missing key has revisions/version 0 and lease '0'. */
export type Compare =
  | { key: string; target: 'mod' | 'create' | 'version'; equals: number }
  | { key: string; target: 'lease'; equals: string }
  /** The key's value, byte for byte (a missing key never equals). */
  | { key: string; target: 'value'; equals: string };

export type TxnOp =
  | { op: 'put'; key: string; value: string; lease?: string }
  | { op: 'delete'; key: string }
  | { op: 'range'; key: string; prefix?: boolean };

export interface TxnResult {
  succeeded: boolean;
  /** The store's revision after the transaction. */
  revision: number;
  /** One entry per op of the branch that ran: the keys a 'range' op read, [] for writes. */
  results: StoredKv[][];
}

export interface RangeResult {
  revision: number;
  kvs: StoredKv[];
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For deletes: key and modRevision (the deletion's revision); value is empty. */
  kv: StoredKv;
}

export interface WatchCallbacks {
  /** The watch is (re)established; `revision` is the store's current revision. */
  onConnected(revision: number): void;
  onEvents(events: WatchEvent[], revision: number): void;
  /** etcd cancelled the watch (typically: its start revision was compacted). It will not resume. */
  onCanceled(reason: string): void;
  /** The stream broke; the driver reconnects and resumes after the last revision seen. */
  onDisconnected(err: Error): void;
}

export interface WatchOptions {
  prefix: boolean;
  fromRevision: number;
  rangeEnd?: string;
}

export interface WatchHandle {
  cancel(): Promise<void>;
}

export interface EtcdDriver {
  txn(compares: Compare[], success: TxnOp[], failure?: TxnOp[]): Promise<TxnResult>;
  range(key: string, opts?: { prefix?: boolean }): Promise<RangeResult>;
  put(key: string, value: string, lease?: string): Promise<number>;
  /** Returns the revision after the delete. */
  delete(key: string, opts?: { prefix?: boolean }): Promise<number>;
  currentRevision(): Promise<number>;
  leaseGrant(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }>;
  /** One keepalive round trip. ttlSeconds ≤ 0 means the lease no longer exists. */
  leaseKeepAliveOnce(id: string, timeoutMs: number): Promise<{ ttlSeconds: number }>;
  /** ttlSeconds is -1 when the lease does not exist. */
  leaseTimeToLive(id: string): Promise<{ ttlSeconds: number; grantedTtlSeconds: number; keys: string[] }>;
  /** Revoking a lease that is already gone succeeds. */
  leaseRevoke(id: string): Promise<void>;
  /** `rangeEnd` (exclusive) watches the keys in [key, rangeEnd) instead of one key or a prefix. */
  watch(key: string, opts: WatchOptions, callbacks: WatchCallbacks): WatchHandle;
  close(): void;
}
