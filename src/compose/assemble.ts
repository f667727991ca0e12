// Mapped services → jobs. Separately: one job per service, named after it
// (a DNS-1123 label), its dependencies reported (jobs start independently).
// As a pod (--pod NAME): one job whose containers are the services, sharing
// one network namespace; depends_on becomes the containers' start order.
import { MAX_JOB_NAME_LENGTH } from '../render/job-name';
import type { Container, Job } from '../render/job-raw.generated';
import { formatDuration } from '../render/units';
import type { FindingList } from './findings';
import { LabelAllocator } from './names';
import type { MappedService } from './service';
import type { ImportedJob } from './types';

const MAX_CONTAINERS = 16;

export function assembleSeparate(services: readonly MappedService[], f: FindingList): ImportedJob[] {
  const names = new LabelAllocator(MAX_JOB_NAME_LENGTH);
  const imported = new Set(services.filter((s) => s.container).map((s) => s.service));
  const volumeOwner = new Map<string, string>();
  const out: ImportedJob[] = [];
  for (const s of services) {
    if (!s.container) continue;
    const name = names.take(s.service);
    if (name !== s.service) f.note(s.at, `job named ${name}: job names are DNS-1123 labels of at most ${MAX_JOB_NAME_LENGTH} characters`);
    for (const d of s.dependsOn) {
      f.leftOut(d.at, imported.has(d.service)
        ? `${d.service} is a job of its own, and jobs start independently (the job format orders the containers of one pod only): make ${s.service} wait for it, or import with --pod`
        : `${d.service} is not a service that was imported`);
    }
    if (s.sharesNetworkWith) f.leftOut(s.sharesNetworkWith.at, 'only the containers of one pod share a network namespace: import with --pod');
    sharedVolumes(s, volumeOwner, f);
    const job: Job = { name, ...(s.daemon ? { type: 'daemon' as const } : {}), containers: {} };
    if (s.replicas !== undefined && !s.daemon) job.numInstances = s.replicas;
    if (s.stopGraceMs !== undefined) job.stopGrace = formatDuration(s.stopGraceMs);
    job.containers = { [name]: s.container };
    out.push({ name, services: [s.service], job: ordered(job) });
  }
  if (out.length > 1) f.note(['services'], `each job answers in DNS as <job>.<zone> (${out[0]!.name}.ozy.local by default; docs/dns.md), not by its service name`);
  return out;
}

export function assemblePod(pod: string, services: readonly MappedService[], f: FindingList): ImportedJob[] {
  const names = new LabelAllocator(63);
  let members = services.filter((s) => s.container);
  if (members.length > MAX_CONTAINERS) {
    for (const s of members.slice(MAX_CONTAINERS)) f.leftOut(s.at, `not imported: a pod has at most ${MAX_CONTAINERS} containers`);
    members = members.slice(0, MAX_CONTAINERS);
  }
  if (members.length === 0) return [];
  const label = new Map(members.map((s) => [s.service, names.take(s.service)]));
  const containers: Record<string, Container> = {};
  const volumeOwner = new Map<string, string>();
  const hostPorts = new Map<string, string>();
  const containerPorts = new Map<string, string>();
  for (const s of members) {
    const name = label.get(s.service)!;
    if (name !== s.service) f.note(s.at, `container named ${name}: container names are DNS-1123 labels`);
    const c: Container = { ...s.container! };
    const deps = s.dependsOn.flatMap((d) => {
      const dep = label.get(d.service);
      if (dep === undefined) {
        f.leftOut(d.at, `${d.service} is not a service that was imported`);
        return [];
      }
      if (d.condition === 'service_completed_successfully') {
        f.leftOut([...d.at, 'condition'], 'containers of a pod are started in order, not run to completion first: the dependency is kept as a start order');
      } else if (d.condition !== 'service_started' && d.condition !== 'service_healthy') {
        f.leftOut([...d.at, 'condition'], 'expected service_started, service_healthy or service_completed_successfully');
      }
      return [dep];
    });
    if (deps.length > 0) c.depends_on = [...new Set(deps)];
    if (s.sharesNetworkWith && !label.has(s.sharesNetworkWith.service)) {
      f.leftOut(s.sharesNetworkWith.at, `${s.sharesNetworkWith.service} is not a container of this pod`);
    }
    if (c.ports) c.ports = podPorts(c.ports, s, hostPorts, containerPorts, f);
    if (c.ports?.length === 0) delete c.ports;
    sharedVolumes(s, volumeOwner, f);
    containers[name] = c;
  }
  if (members.length > 1) f.note(['services'], `the containers of pod ${pod} reach each other on localhost, not by service name: change addresses like ${members[0]!.service}:PORT to localhost:PORT`);
  const job: Job = { name: pod, containers };
  const daemons = members.filter((s) => s.daemon);
  if (daemons.length === members.length) job.type = 'daemon';
  else for (const s of daemons) f.leftOut([...s.at, 'deploy', 'mode'], 'global: the pod\'s other services are replicated, and a pod runs as a whole');
  if (job.type !== 'daemon') {
    const counts = members.filter((s) => s.replicas !== undefined);
    const n = counts.length > 0 ? Math.max(...counts.map((s) => s.replicas!)) : 1;
    if (counts.length > 0) job.numInstances = n;
    for (const s of members) {
      const wanted = s.replicas ?? 1;
      if (wanted !== n) f.leftOut(s.replicas !== undefined ? [...s.at, 'deploy', 'replicas'] : s.at, `${wanted} instance${wanted === 1 ? '' : 's'} asked for, but a pod runs as a whole: it gets ${n}, the most any of its services asked for`);
    }
  }
  const graces = members.flatMap((s) => (s.stopGraceMs !== undefined ? [s.stopGraceMs] : []));
  if (graces.length > 0) job.stopGrace = formatDuration(Math.max(...graces));
  return [{ name: pod, services: members.map((s) => s.service), job: ordered(job) }];
}

/** Containers of a pod share ports: a port another container already has is left out. */
function podPorts(ports: Array<string | number>, s: MappedService, hostPorts: Map<string, string>, containerPorts: Map<string, string>, f: FindingList): Array<string | number> {
  return ports.filter((p) => {
    const m = /^(?:([0-9]+):)?([0-9]+)(\/udp)?$/.exec(String(p));
    if (!m) return true;
    const proto = m[3] ? 'udp' : 'tcp';
    const inner = `${m[2]}/${proto}`;
    const owner = containerPorts.get(inner);
    if (owner !== undefined && owner !== s.service) {
      f.leftOut([...s.at, 'ports'], `port ${inner} is also used by ${owner}: containers of a pod share one network namespace`);
      return false;
    }
    if (m[1] !== undefined) {
      const outer = `${m[1]}/${proto}`;
      const hostOwner = hostPorts.get(outer);
      if (hostOwner !== undefined) {
        f.leftOut([...s.at, 'ports'], `host port ${outer} is already published by ${hostOwner}`);
        return false;
      }
      hostPorts.set(outer, s.service);
    }
    containerPorts.set(inner, s.service);
    return true;
  });
}

/** A named volume used by several services: each job (or container) gets its own; the data is not shared. */
function sharedVolumes(s: MappedService, owner: Map<string, string>, f: FindingList): void {
  for (const v of s.namedVolumes) {
    const first = owner.get(v.name);
    if (first === undefined) owner.set(v.name, s.service);
    else if (first !== s.service) f.leftOut(v.at, `volume ${JSON.stringify(v.name)} is also mounted by ${first}: each gets a volume of its own here, so they do not see each other's files`);
  }
}

/** Fields in the order people read a job: name, kind, count, then containers. */
function ordered(job: Job): Job {
  const { name, type, numInstances, stopGrace, containers } = job;
  return {
    name,
    ...(type !== undefined ? { type } : {}),
    ...(numInstances !== undefined ? { numInstances } : {}),
    ...(stopGrace !== undefined ? { stopGrace } : {}),
    containers: Object.fromEntries(Object.entries(containers).map(([k, c]) => [k, orderedContainer(c!)])),
  };
}

const CONTAINER_ORDER: ReadonlyArray<keyof Container> = [
  'image', 'command', 'environment', 'ports', 'depends_on', 'restart', 'user', 'readOnlyRootfs', 'memory', 'cpu', 'pids', 'healthcheck', 'volumes',
];

function orderedContainer(c: Container): Container {
  const out: Record<string, unknown> = {};
  for (const k of CONTAINER_ORDER) if (c[k] !== undefined) out[k] = c[k];
  return out as unknown as Container;
}


