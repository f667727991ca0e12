// Small builders of the values the store keeps, for store tests.
import { randomUUID } from 'node:crypto';
import type { AcceptedJob, InstanceStatus, Rejection } from '../../../src/model/cluster';
import type { ClusterStore, NodeRegistration, ScheduleWrites } from '../../../src/store';

export const GiB = 1024 ** 3;

export function nodeInfo(name: string, zone = 'a'): NodeRegistration {
  return { name, address: `10.0.0.${name.length}`, zone, labels: { role: 'worker' }, capacity: { memory: 8 * GiB, disk: 100 * GiB, cpu: 4000 } };
}

export function job(name: string, placements: (string | null)[], commit = 'c0'): AcceptedJob {
  return {
    spec: {
      name,
      numInstances: placements.length,
      containers: [{ name: 'app', image: 'localhost/ozy-test:1', restart: 'always', environment: [], ports: [], dependsOn: [], memory: 64 * 1024 * 1024, cpu: 100, volumes: [] }],
    },
    specHash: 'h-' + name,
    commit,
    file: `jobs/${name}.yaml`,
    acceptedAt: '2024-01-01T00:00:00.000Z',
    instances: placements.map((node) => ({ node, since: '2024-01-01T00:00:00.000Z' })),
  };
}

export function rejection(key: string, commit = 'c0'): Rejection {
  return {
    key,
    commit,
    desiredHash: 'd-' + key,
    problem: { type: 'https://example.test/errors.md#insufficient-memory', title: 'Insufficient memory for job', detail: 'no node has 64 GiB' },
    at: '2024-01-01T00:00:00.000Z',
  };
}

export function status(node: string, instance: string): InstanceStatus {
  return {
    instance,
    job: instance.replace(/-\d+$/, ''),
    node,
    specHash: 'h',
    state: 'healthy',
    restarts: 0,
    containers: { app: { id: 'abc', state: 'running' } },
    updatedAt: '2024-01-01T00:00:00.000Z',
  };
}

/** A fresh key prefix so tests sharing one etcd do not see each other. */
export function uniquePrefix(): string {
  return `/ozy-t-${randomUUID().slice(0, 8)}`;
}

export const noWrites: ScheduleWrites = { putJobs: [], deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: new Map() };

/** Commits `writes` on the store's current schedule (one round, nobody racing); returns its revision. */
export async function commitRound(store: ClusterStore, writes: Partial<ScheduleWrites>, commit: string): Promise<number> {
  const snap = await store.snapshot();
  const res = await store.commitSchedule(snap.scheduleRevision, { ...noWrites, ...writes }, { commit, by: 'test' });
  if (!res.ok) throw new Error(`the guard refused round ${commit}: someone else committed`);
  return res.revision;
}
