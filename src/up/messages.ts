// What `ozy up` tells the user: the commands to try, and who holds the lock.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ozyEntry, projectRoot } from '../paths';
import { findProgram } from './programs';
import type { UpState } from './state-file';

/**
 * How the user runs `ozy` here, for the commands we print: `ozy` when the
 * `ozy` on PATH is this project's bin/ozy (npm link, or PATH=$PWD/bin), else
 * `node <the entry point we were started with>`.
 */
export function selfCommand(cwd: string, argv1: string | undefined = process.argv[1]): string {
  const entry = argv1 ?? ozyEntry();
  const onPath = findProgram('ozy');
  if (onPath !== undefined) {
    const root = safeRealpath(projectRoot());
    if (safeRealpath(onPath) === path.join(root, 'bin', 'ozy') && safeRealpath(entry).startsWith(`${root}${path.sep}`)) return 'ozy';
  }
  const rel = path.relative(cwd, entry);
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : entry;
  return path.basename(entry) === 'ozy' ? shown : `node ${shown}`;
}

function safeRealpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

export function readyText(r: { self: string; etcd: string; repoUrl: string; socket: string; stateDir: string; ingress: string; dns: string; dashboard?: string }): string {
  const [dnsHost, dnsPort] = [r.dns.slice(0, r.dns.lastIndexOf(':')), r.dns.slice(r.dns.lastIndexOf(':') + 1)];
  return [
    'Ready. In another terminal:',
    '  # the job repository: clone it, change jobs/, commit and push',
    `  git clone ${r.repoUrl} ozy-jobs`,
    '  # the cluster as etcd holds it: nodes, jobs, instances, rejections',
    `  ${r.self} status --etcd ${r.etcd}`,
    ...(r.dashboard ? ['  # the same, live, in a browser (read-only)', `  open http://${r.dashboard}/`] : []),
    '  # DNS records of the healthy instances (CoreDNS etcd format)',
    `  ETCDCTL_API=3 etcdctl --endpoints ${r.etcd} get --prefix /skydns`,
    '  # through the ingress, by Host header (the example job hello routes hello.ozy.test)',
    `  curl -H 'Host: hello.ozy.test' http://${r.ingress}/`,
    '  # the name service: every healthy instance of hello, and their ports',
    `  dig @${dnsHost} -p ${dnsPort} +norecurse hello.ozy.local A hello.ozy.local SRV`,
    '  # the containers',
    `  podman --url unix://${r.socket} ps`,
    `Logs: ${path.join(r.stateDir, 'logs')}/. Ctrl-C stops everything ozy up started.`,
    '',
  ].join('\n');
}

export function describeRunning(s: UpState, self: string): string {
  const lines = [`ozy up: already running (pid ${s.pid}, ${s.phase} since ${s.startedAt}) on state dir ${s.stateDir}`];
  if (s.etcd) lines.push(`  etcd      ${s.etcd.endpoint}`);
  if (s.git) lines.push(`  repo      ${s.git.url}`);
  if (s.podman) lines.push(`  engine    unix://${s.podman.socketPath}`);
  if (s.ingress) lines.push(`  ingress   http://${s.ingress.address}`);
  if (s.dns) lines.push(`  dns       ${s.dns.address} (zone ${s.dns.zone})`);
  if (s.dashboard) lines.push(`  dashboard http://${s.dashboard.address}/`);
  if (s.nodes.length) lines.push(`  nodes     ${s.nodes.join(', ')}`);
  if (s.etcd) lines.push(`  status    ${self} status --etcd ${s.etcd.endpoint}`);
  lines.push(`Stop it with Ctrl-C in its terminal (or kill -INT ${s.pid}), or start another with --state-dir DIR.`, '');
  return lines.join('\n');
}
