// Decoders of the schedule's keys that also check the value against its key
// (a node stored under another node's name is corrupt, not a node).
import type { InstanceStatus, NodeInfo, Rejection } from '../model/cluster';
import { decodeInstanceStatus, decodeNodeInfo, decodeObject, decodeRejection, type Decoded } from './codec';
import type { StoredKv } from './driver';

export function decodeNamedNode(name: string, kv: StoredKv): Decoded<NodeInfo> {
  const d = decodeNodeInfo(kv.value);
  if (d.ok && d.value.name !== name) return { ok: false, reason: `name "${d.value.name}" does not match the key` };
  return d;
}

export function decodeNamedRejection(name: string, kv: StoredKv): Decoded<Rejection> {
  const d = decodeRejection(kv.value);
  if (d.ok && d.value.key !== name) return { ok: false, reason: `key "${d.value.key}" does not match the etcd key` };
  return d;
}

/** The known-zones list; anything unreadable counts as none (the live nodes' zones still count). */
export function decodeKnownZones(raw: string | Buffer | undefined): string[] {
  if (raw === undefined) return [];
  try {
    const v: unknown = JSON.parse(String(raw));
    return Array.isArray(v) ? v.filter((z): z is string => typeof z === 'string').sort() : [];
  } catch {
    return [];
  }
}

export function decodeReportsMark(raw: string | Buffer | undefined): number {
  if (raw === undefined) return 0;
  const d = decodeObject(raw);
  return d.ok && typeof d.value.revision === 'number' ? d.value.revision : 0;
}

/** `name` is "<node>/<instance>", the key below the status prefix. */
export function decodeNamedStatus(name: string, kv: StoredKv): Decoded<InstanceStatus> {
  const d = decodeInstanceStatus(kv.value);
  if (d.ok && `${d.value.node}/${d.value.instance}` !== name) {
    return { ok: false, reason: `node/instance "${d.value.node}/${d.value.instance}" does not match the key` };
  }
  return d;
}
