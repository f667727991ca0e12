// Job files of the fault suite: busybox httpd behind an HTTP health check, so
// "healthy" means a real process answers; the port is not published, so each
// copy's DNS record carries its own pod IP and tells the copies apart.
//
// busybox httpd as PID 1 ignores SIGTERM (a stop would wait the whole stop
// timeout); a shell that traps TERM makes stops, hence fencing, prompt.
import { BUSYBOX_IMAGE } from '../../src/runtime';

export interface WebJobOptions {
  instances?: number;
  memory?: string;
  cpu?: string;
}

export function webJob(name: string, opts: WebJobOptions = {}): string {
  return [
    `name: ${name}`,
    `numInstances: ${opts.instances ?? 1}`,
    'containers:',
    '  main:',
    `    image: ${BUSYBOX_IMAGE}`,
    `    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; /bin/httpd -f -p 8080 -h /www & wait"]`,
    '    ports: ["8080"]',
    `    memory: ${opts.memory ?? '32M'}`,
    `    cpu: ${opts.cpu ?? '50m'}`,
    '    healthcheck:',
    '      type: http',
    '      port: 8080',
    '      path: /index.html',
    '      interval: 300ms',
    '      timeout: 1s',
    '',
  ].join('\n');
}

/** `jobs/<name>.yaml` → content, for FaultCluster.merge. */
export function jobFiles(jobs: Record<string, WebJobOptions | null>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(jobs).map(([name, o]) => [`jobs/${name}.yaml`, o === null ? null : webJob(name, o)]));
}
