// Job files for the autoscaling benchmark: a busybox instance with an HTTP
// health check (httpd, every 500 ms, so "healthy" comes soon after start
// and the figure is about the autoscaler, not the check) and a `shared`
// volume through which the bench drives its load.
import * as path from 'node:path';
import { sharedVolumePath } from '../../src/runtime/volumes';
import { shellJob, type TestCluster } from '../../test/harness/cluster';

/** Every instance's CPU limit: large enough that a 2 s sample period holds many CFS periods and many queue tokens. */
export const INSTANCE_CPU = '200m';

/** Spins while /shared/load exists (capped at the CPU limit by CFS: ~100 % of it), idles otherwise. */
export const STEP_BURNER = ["trap 'exit 0' TERM", 'mkdir -p /srv', 'echo ok > /srv/health.txt', '/bin/httpd -f -p 8080 -h /srv & while :; do if [ -f /shared/load ]; then :; else sleep 0.1; fi; done'].join('; ');

export interface AutoscaledJobOptions {
  name: string;
  script: string;
  /** The count autoscaling starts from. */
  instances: number;
  min: number;
  max: number;
  cpuPercent: number;
  /** e.g. "5s"; omitted: the default (5m). */
  scaleDownAfter?: string;
}

export function autoscaledJob(o: AutoscaledJobOptions): string {
  const policy = [`min: ${o.min}`, `max: ${o.max}`, `cpu: ${o.cpuPercent}%`, ...(o.scaleDownAfter ? [`scaleDownAfter: ${o.scaleDownAfter}`] : [])].join(', ');
  return shellJob({
    name: o.name,
    script: o.script,
    memory: '64M',
    cpu: INSTANCE_CPU,
    top: [`numInstances: ${o.instances}`, `autoscale: {${policy}}`, 'update: {minHealthy: 1s, healthyDeadline: 60s}', 'stopGrace: 1s'],
    container: [
      'ports: ["8080"]',
      'healthcheck: {type: http, port: 8080, path: /health.txt, interval: 500ms, timeout: 1s}',
      'volumes:',
      '  - type: shared',
      '    path: /shared',
      '    space: 1M',
    ],
  });
}

/** Where the shared volume `/shared` of `job` lives on the host (the harness gives every agent one shared root). */
export function sharedDir(c: TestCluster, job: string): string {
  const root = path.join(path.dirname(c.agents[0]!.dataDir), 'shared');
  return sharedVolumePath(root, job, '/shared');
}
