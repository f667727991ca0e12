// JobSpec → the raw job format: what `ozy render` prints. The output is a
// valid job file (normalizing it again gives the same spec), with every
// default spelled out and units in their shortest exact form.
import { isSecretEnv, pidsOf, type ContainerSpec, type CronPolicy, type HealthCheck, type JobSpec, type PortMapping } from '../model/job';
import type { Container, Healthcheck, Job } from './job-raw.generated';
import { formatCpu, formatDuration, formatSize } from './units';

export function toRawJob(spec: JobSpec): Job {
  const containers: Job['containers'] = {};
  for (const c of spec.containers) containers[c.name] = toRawContainer(c);
  const out: Job =
    spec.type === 'daemon'
      ? { name: spec.name, type: 'daemon', containers }
      : spec.type === 'cron' && spec.cron
        ? { name: spec.name, type: 'cron', ...toRawCron(spec.cron), containers }
        : { name: spec.name, numInstances: spec.numInstances, containers };
  if (spec.ingress) out.ingress = spec.ingress.map((r) => ('tcp' in r ? { tcp: r.tcp, port: r.port } : { host: r.host, path: r.path, port: r.port }));
  if (spec.placement) {
    const p = spec.placement;
    out.placement = {
      ...(p.spread ? { spread: p.spread } : {}),
      ...(p.zones ? { zones: [...p.zones] } : {}),
      ...(p.nodeLabels ? { nodeLabels: { ...p.nodeLabels } } : {}),
    };
  }
  if (spec.update) {
    const u = spec.update;
    out.update = {
      strategy: u.strategy,
      maxParallel: u.maxParallel,
      minHealthy: formatDuration(u.minHealthyMs),
      healthyDeadline: formatDuration(u.healthyDeadlineMs),
      autoRevert: u.autoRevert,
    };
  }
  if (spec.stopGraceMs !== undefined) out.stopGrace = formatDuration(spec.stopGraceMs);
  if (spec.onNodeLoss !== undefined) out.onNodeLoss = spec.onNodeLoss;
  if (spec.autoscale) {
    const a = spec.autoscale;
    out.autoscale = { min: a.min, max: a.max, cpu: `${a.cpuPercent}%`, scaleDownAfter: formatDuration(a.scaleDownAfterMs) };
  }
  return out;
}

/** The cron fields, every default spelled out; `numInstances` is the pods per run. */
function toRawCron(c: CronPolicy): Partial<Job> {
  return {
    schedule: c.schedule,
    timeZone: c.timeZone,
    concurrency: c.concurrency,
    startingDeadline: formatDuration(c.startingDeadlineMs),
    catchUp: c.catchUp,
    ...(c.activeDeadlineMs !== undefined ? { activeDeadline: formatDuration(c.activeDeadlineMs) } : {}),
    retries: c.retries,
    history: { succeeded: c.history.succeeded, failed: c.history.failed },
    numInstances: c.instances,
  };
}

function toRawContainer(c: ContainerSpec): Container {
  const out: Container = { image: c.image, restart: c.restart };
  if (c.command) out.command = [...c.command];
  if (c.environment.length > 0) out.environment = c.environment.map((e) => (isSecretEnv(e) ? { name: e.name, secret: e.secret.name } : { name: e.name, value: e.value }));
  if (c.ports.length > 0) out.ports = c.ports.map(formatPort);
  if (c.dependsOn.length > 0) out.depends_on = [...c.dependsOn];
  out.memory = formatSize(c.memory);
  out.cpu = formatCpu(c.cpu);
  if (c.healthcheck) out.healthcheck = toRawHealthcheck(c.healthcheck);
  if (c.volumes.length > 0) out.volumes = c.volumes.map((v) => ({ type: v.type, path: v.path, space: formatSize(v.space) }));
  out.pids = pidsOf(c);
  if (c.user !== undefined) out.user = c.user;
  out.readOnlyRootfs = c.readOnlyRootfs === true;
  return out;
}

export function formatPort(p: PortMapping): string {
  const base = p.host !== undefined ? `${p.host}:${p.container}` : `${p.container}`;
  return p.protocol === 'udp' ? `${base}/udp` : base;
}

function toRawHealthcheck(hc: HealthCheck): Healthcheck {
  const timing = {
    timeout: formatDuration(hc.timeoutMs),
    interval: formatDuration(hc.intervalMs),
    healthy_threshold: hc.healthyThreshold,
    unhealthy_threshold: hc.unhealthyThreshold,
  };
  switch (hc.type) {
    case 'http':
      return { type: 'http', port: hc.port, path: hc.path, ...timing };
    case 'tcp':
      return { type: 'tcp', port: hc.port, ...timing };
    case 'exec':
      return { type: 'exec', command: [...hc.command], ...timing };
  }
}
