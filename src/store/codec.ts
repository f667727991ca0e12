// Values are JSON. Reading checks their shape lightly: enough that a corrupt
// or foreign value is skipped and reported instead of crashing an agent, not
// a full schema validation (the writers are our own agents).
import type { AcceptedJob, InstanceStatus, NodeInfo, Rejection } from '../model/cluster';
import type { NodeCpu } from '../model/autoscale';
import type { CronState, RunRecord } from '../model/cron';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A CoreDNS etcd-plugin record. */
export interface DnsRecord {
  host: string;
  port: number;
  ttl: number;
}

/** The value of the `/schedule` guard key. */
export interface ScheduleMark {
  commit: string;
  at: string;
  by: string;
}

export function encodeValue(value: unknown): string {
  return JSON.stringify(value);
}

type Obj = Record<string, unknown>;
type Check = (v: Obj) => string | undefined;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str =
  (field: string): Check =>
  (v) =>
    typeof v[field] === 'string' ? undefined : `${field} is not a string`;
const optStr =
  (field: string): Check =>
  (v) =>
    v[field] === undefined || typeof v[field] === 'string' ? undefined : `${field} is not a string`;
const num =
  (field: string): Check =>
  (v) =>
    typeof v[field] === 'number' && Number.isFinite(v[field]) ? undefined : `${field} is not a number`;
const obj =
  (field: string): Check =>
  (v) =>
    isObj(v[field]) ? undefined : `${field} is not an object`;

function decodeWith<T>(raw: string | Buffer, checks: Check[]): Decoded<T> {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString());
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObj(v)) return { ok: false, reason: 'not a JSON object' };
  for (const check of checks) {
    const why = check(v);
    if (why) return { ok: false, reason: why };
  }
  return { ok: true, value: v as T };
}

const resources =
  (field: string): Check =>
  (v) => {
    const r = v[field];
    if (!isObj(r)) return `${field} is not an object`;
    for (const k of ['memory', 'disk', 'cpu']) {
      if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) return `${field}.${k} is not a number`;
    }
    return undefined;
  };

const stringMap =
  (field: string): Check =>
  (v) => {
    const m = v[field];
    if (!isObj(m) || Object.values(m).some((x) => typeof x !== 'string')) return `${field} is not a map of strings`;
    return undefined;
  };

export function decodeNodeInfo(raw: string | Buffer): Decoded<NodeInfo> {
  return decodeWith<NodeInfo>(raw, [
    str('name'),
    str('address'),
    optStr('zone'),
    stringMap('labels'),
    resources('capacity'),
    str('agentId'),
    str('leaseId'),
    str('startedAt'),
  ]);
}

const jobSpec: Check = (v) => {
  const spec = v['spec'];
  if (!isObj(spec)) return 'spec is not an object';
  if (typeof spec['name'] !== 'string') return 'spec.name is not a string';
  if (!Number.isInteger(spec['numInstances']) || (spec['numInstances'] as number) < 0) return 'spec.numInstances is not a count';
  if (!Array.isArray(spec['containers'])) return 'spec.containers is not a list';
  return undefined;
};

const placements: Check = (v) => {
  const list = v['instances'];
  if (!Array.isArray(list)) return 'instances is not a list';
  for (let i = 0; i < list.length; i++) {
    const p: unknown = list[i];
    if (!isObj(p) || !(p['node'] === null || typeof p['node'] === 'string') || typeof p['since'] !== 'string') {
      return `instances[${i}] is not a placement`;
    }
  }
  return undefined;
};

/** A rolling update's pins name versions the job carries (versionOf must never guess). */
const pins: Check = (v) => {
  const list = v['instances'] as unknown[];
  const versions = v['versions'];
  if (versions !== undefined && !isObj(versions)) return 'versions is not an object';
  for (let i = 0; i < list.length; i++) {
    const pin = (list[i] as Obj)['spec'];
    if (pin === undefined || pin === v['specHash']) continue;
    if (typeof pin !== 'string') return `instances[${i}].spec is not a spec hash`;
    const version = isObj(versions) ? versions[pin] : undefined;
    if (!isObj(version) || !isObj(version['spec'])) return `instances[${i}] runs version ${pin}, which the job does not carry`;
  }
  return undefined;
};

/** `name` is the job name taken from the key; the spec must agree with it. */
export function decodeAcceptedJob(raw: string | Buffer, name?: string): Decoded<AcceptedJob> {
  const d = decodeWith<AcceptedJob>(raw, [
    jobSpec,
    str('specHash'),
    str('commit'),
    str('file'),
    str('acceptedAt'),
    placements,
    pins,
  ]);
  if (d.ok && name !== undefined && d.value.spec.name !== name) {
    return { ok: false, reason: `spec.name "${d.value.spec.name}" does not match the key` };
  }
  return d;
}

const problem: Check = (v) => {
  const p = v['problem'];
  if (!isObj(p)) return 'problem is not an object';
  for (const k of ['type', 'title', 'detail']) if (typeof p[k] !== 'string') return `problem.${k} is not a string`;
  return undefined;
};

export function decodeRejection(raw: string | Buffer): Decoded<Rejection> {
  return decodeWith<Rejection>(raw, [str('key'), str('commit'), str('desiredHash'), problem, str('at')]);
}

const INSTANCE_STATES = new Set(['pending', 'pulling', 'starting', 'healthy', 'unhealthy', 'exited', 'failed']);

/** Optional: `{"3000": {"host": "10.0.0.5", "port": 31000}}`, keys are container ports. */
const endpoints: Check = (v) => {
  const e = v['endpoints'];
  if (e === undefined) return undefined;
  if (!isObj(e)) return 'endpoints is not an object';
  for (const [port, ep] of Object.entries(e)) {
    if (!/^[1-9]\d{0,4}$/.test(port)) return `endpoints key "${port}" is not a port`;
    if (!isObj(ep) || typeof ep['host'] !== 'string' || ep['host'].length === 0) return `endpoints.${port}.host is not a host`;
    const p = ep['port'];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) return `endpoints.${port}.port is not a port`;
  }
  return undefined;
};

export function decodeDnsRecord(raw: string | Buffer): Decoded<DnsRecord> {
  return decodeWith<DnsRecord>(raw, [str('host'), num('port'), num('ttl')]);
}

export function decodeScheduleMark(raw: string | Buffer): Decoded<ScheduleMark> {
  return decodeWith<ScheduleMark>(raw, [str('commit'), str('at'), str('by')]);
}

export function decodeObject(raw: string | Buffer): Decoded<Record<string, unknown>> {
  return decodeWith<Record<string, unknown>>(raw, []);
}

/** Writes are checked too, so a bad record never reaches CoreDNS. */
export function dnsRecordProblem(r: DnsRecord): string | undefined {
  if (typeof r.host !== 'string' || r.host.length === 0) return 'host must be a non-empty string';
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) return 'port must be an integer 0..65535';
  if (!Number.isInteger(r.ttl) || r.ttl < 0) return 'ttl must be a non-negative integer';
  return undefined;
}

export function decodeInstanceStatus(raw: string | Buffer): Decoded<InstanceStatus> {
  return decodeWith<InstanceStatus>(raw, [
    str('instance'),
    str('job'),
    str('node'),
    str('specHash'),
    (v) => (typeof v['state'] === 'string' && INSTANCE_STATES.has(v['state']) ? undefined : 'state is not an instance state'),
    optStr('message'),
    num('restarts'),
    obj('containers'),
    str('updatedAt'),
    endpoints,
  ]);
}

const runs: Check = (v) => {
  const list = v['runs'];
  if (!Array.isArray(list)) return 'runs is not a list';
  for (const r of list) {
    if (!isObj(r) || typeof r['run'] !== 'string' || typeof r['scheduledAt'] !== 'string' || typeof r['attempt'] !== 'number') return 'a run is malformed';
    const insts = r['instances'];
    if (!Array.isArray(insts) || insts.some((i) => !isObj(i) || (i['node'] !== null && typeof i['node'] !== 'string'))) return `run ${r['run']}: instances are malformed`;
  }
  return undefined;
};

/** `<prefix>/runs/<job>`: a cron job's claim cursor and active runs. */
export function decodeCronState(raw: string | Buffer, name?: string): Decoded<CronState> {
  const d = decodeWith<CronState>(raw, [str('job'), num('cursor'), runs]);
  if (d.ok && name !== undefined && d.value.job !== name) return { ok: false, reason: `job "${d.value.job}" does not match the key` };
  return d;
}

/** `<prefix>/history/<job>/<run>`: one ended run. */
export function decodeRunRecord(raw: string | Buffer): Decoded<RunRecord> {
  return decodeWith<RunRecord>(raw, [str('run'), str('scheduledAt'), str('result'), obj('exitCodes'), obj('output')]);
}

/** One instance's measurement in a NodeCpu record; undefined when it is well formed. */
function instanceCpuProblem(name: string, v: unknown): string | undefined {
  if (!isObj(v)) return `instances.${name} is not an object`;
  for (const k of ['job', 'spec']) if (typeof v[k] !== 'string') return `instances.${name}.${k} is not a string`;
  if (typeof v['healthy'] !== 'boolean') return `instances.${name}.healthy is not a boolean`;
  for (const k of ['used', 'limit']) {
    const n = v[k];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return `instances.${name}.${k} is not a non-negative number`;
  }
  return undefined;
}

/**
 * What is wrong with a NodeCpu record, if anything. Checked on write and on
 * read: the autoscaler divides by `limit` and compares `used`, so a record
 * it reads is whole or skipped, never half believed.
 */
export function nodeCpuProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'not a JSON object';
  const ms = v['sampleMs'];
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return 'sampleMs is not a positive number';
  const instances = v['instances'];
  if (!isObj(instances)) return 'instances is not an object';
  for (const [name, i] of Object.entries(instances)) {
    const why = instanceCpuProblem(name, i);
    if (why) return why;
  }
  return undefined;
}

/** `<prefix>/cpu/<node>`: a node's CPU measurements (model/autoscale.ts). */
export function decodeNodeCpu(raw: string | Buffer): Decoded<NodeCpu> {
  return decodeWith<NodeCpu>(raw, [nodeCpuProblem]);
}
