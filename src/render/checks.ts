// Semantic checks: rules a JSON Schema cannot express, over a normalized
// spec. Each returns findings with a named problem type; none throws.
// Pointers are built from container names and list indexes, which
// normalization keeps as the file has them.
import type { ContainerSpec, IngressRoute, JobSpec } from '../model/job';
import { finding, type Finding } from './findings';
import { imageReferenceProblem } from './image-ref';

export function semanticChecks(spec: JobSpec): Finding[] {
  return [
    ...checkImages(spec),
    ...checkDependencies(spec),
    ...checkPodPorts(spec),
    ...checkHealthcheckPorts(spec),
    ...checkVolumes(spec),
    ...checkIngress(spec),
  ];
}

/** Each route's port is one the pod listens on; no route twice in a job. */
export function checkIngress(spec: JobSpec): Finding[] {
  const out: Finding[] = [];
  const podPorts = new Set(spec.containers.flatMap((c) => c.ports.filter((p) => p.protocol === 'tcp').map((p) => p.container)));
  const seen = new Map<string, number>();
  (spec.ingress ?? []).forEach((r, i) => {
    if (!podPorts.has(r.port)) {
      const known = [...podPorts].sort((a, b) => a - b).join(', ') || 'none';
      out.push(finding('invalid-ingress', ['ingress', i, 'port'], `port ${r.port} is not a TCP port of the pod (its container ports: ${known}); add it to a container's ports, e.g. ports: ["${r.port}"]`));
    }
    const claim = ingressClaim(r);
    const first = seen.get(claim);
    if (first !== undefined) out.push(finding('invalid-ingress', ['ingress', i], `${describeClaim(claim)} is already routed by ingress[${first}]`));
    else seen.set(claim, i);
  });
  return out;
}

/** What a route claims across the cluster: `host path` or `tcp:N` (two jobs may not share one). */
export function ingressClaim(r: IngressRoute): string {
  return 'tcp' in r ? `tcp:${r.tcp}` : `${r.host} ${r.path}`;
}

export function describeClaim(claim: string): string {
  if (claim.startsWith('tcp:')) return `TCP port ${claim.slice(4)}`;
  const [host, path] = claim.split(' ');
  return `host ${host} path ${path}`;
}

export function checkImages(spec: JobSpec): Finding[] {
  return spec.containers.flatMap((c) => {
    const why = imageReferenceProblem(c.image);
    return why
      ? [finding('invalid-image', ['containers', c.name, 'image'], `${JSON.stringify(c.image)} is not an image reference: it ${why} (e.g. postgres:13 or registry.example.com/team/app:1.2)`)]
      : [];
  });
}

export function checkDependencies(spec: JobSpec): Finding[] {
  const names = new Set(spec.containers.map((c) => c.name));
  const out: Finding[] = [];
  for (const c of spec.containers) {
    c.dependsOn.forEach((dep, i) => {
      if (!names.has(dep)) {
        const known = [...names].filter((n) => n !== c.name).join(', ') || 'none';
        out.push(finding('unknown-dependency', ['containers', c.name, 'depends_on', i], `expected a container of this job (${known}), got ${JSON.stringify(dep)}`));
      }
    });
  }
  const cycle = findCycle(spec.containers, names);
  if (cycle) {
    const [first, second] = cycle;
    const c = spec.containers.find((x) => x.name === first)!;
    const index = c.dependsOn.indexOf(second!);
    out.push(
      finding('dependency-cycle', ['containers', first!, 'depends_on', index], `${cycle.join(' → ')} is a cycle: no container could start first; remove one of these dependencies`),
    );
  }
  return out;
}

/** One dependency cycle as [a, b, …, a], looking at containers in name order; undefined if none. */
function findCycle(containers: ContainerSpec[], names: Set<string>): string[] | undefined {
  const byName = new Map(containers.map((c) => [c.name, c]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of [...byName.get(name)!.dependsOn].sort()) {
      if (!names.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of [...names].sort()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Containers of a pod share one network namespace: a host port can be
 * published once, and a container port can be listened on by one container.
 */
export function checkPodPorts(spec: JobSpec): Finding[] {
  const out: Finding[] = [];
  const hostOwner = new Map<string, string>();
  const containerOwner = new Map<string, { container: string; where: string }>();
  for (const c of spec.containers) {
    c.ports.forEach((p, i) => {
      const where = `containers.${c.name}.ports[${i}]`;
      const at = ['containers', c.name, 'ports', i];
      if (p.host !== undefined) {
        const key = `${p.host}/${p.protocol}`;
        const prev = hostOwner.get(key);
        if (prev) out.push(finding('port-conflict-in-pod', at, `host port ${key} is already published by ${prev}`));
        else hostOwner.set(key, where);
      }
      const key = `${p.container}/${p.protocol}`;
      const prev = containerOwner.get(key);
      if (prev && prev.container !== c.name) {
        out.push(finding('port-conflict-in-pod', at, `container port ${key} is already used by ${prev.where}; containers of a pod share one network namespace`));
      } else if (!prev) {
        containerOwner.set(key, { container: c.name, where });
      }
    });
  }
  return out;
}

/** An http or tcp health check must probe one of the container's own (tcp) ports. */
export function checkHealthcheckPorts(spec: JobSpec): Finding[] {
  return spec.containers.flatMap((c) => {
    const hc = c.healthcheck;
    if (!hc || hc.type === 'exec') return [];
    const tcpPorts = c.ports.filter((p) => p.protocol === 'tcp').map((p) => p.container);
    if (tcpPorts.includes(hc.port)) return [];
    const listed = tcpPorts.length > 0 ? `one of the container's ports (${[...new Set(tcpPorts)].join(', ')})` : 'a port listed in the container\'s ports (it lists none)';
    return [finding('invalid-healthcheck', ['containers', c.name, 'healthcheck', 'port'], `expected ${listed}, got ${hc.port}`)];
  });
}

/** Mount paths: absolute, clean (no '.', '..' or empty segments), not '/', unique per container. */
export function checkVolumes(spec: JobSpec): Finding[] {
  const out: Finding[] = [];
  for (const c of spec.containers) {
    const seen = new Map<string, number>();
    c.volumes.forEach((v, i) => {
      const at = ['containers', c.name, 'volumes', i, 'path'];
      const why = mountPathProblem(v.path);
      if (why) {
        out.push(finding('invalid-volume', at, `expected a clean absolute path like /data, got ${JSON.stringify(v.path)}: ${why}`));
        return;
      }
      const prev = seen.get(v.path);
      if (prev !== undefined) out.push(finding('invalid-volume', at, `${v.path} is already mounted by volumes[${prev}]`));
      else seen.set(v.path, i);
    });
  }
  return out;
}

function mountPathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return 'it is not absolute';
  if (p === '/') return 'it would hide the whole container file system';
  if (/[\u0000-\u001f\\:]/.test(p)) return 'it contains a control character, a backslash or a colon';
  const segments = p.slice(1).split('/');
  if (segments.includes('..')) return "it contains '..'";
  if (segments.includes('.')) return "it contains '.'";
  if (segments.includes('')) return 'it contains an empty segment or a trailing slash';
  return undefined;
}

/**
 * Start order: every container after its dependencies, ties broken by name
 * (Kahn's algorithm). Call only when checkDependencies found nothing.
 */
export function orderContainers(containers: ContainerSpec[]): ContainerSpec[] {
  const remaining = new Map(containers.map((c) => [c.name, new Set(c.dependsOn)]));
  const byName = new Map(containers.map((c) => [c.name, c]));
  const out: ContainerSpec[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([n]) => n).sort();
    if (ready.length === 0) throw new Error('orderContainers: dependency cycle (checkDependencies should have caught it)');
    const next = ready[0]!;
    remaining.delete(next);
    for (const deps of remaining.values()) deps.delete(next);
    out.push(byName.get(next)!);
  }
  return out;
}
