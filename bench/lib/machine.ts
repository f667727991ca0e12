// The machine a run happened on, printed with every figure: figures from
// different machines are not comparable, and the load average at the start
// says how much the neighbours were competing for the CPU.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';

export interface Machine {
  cpuModel: string;
  cores: number;
  ramBytes: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started. */
  loadAverage: number;
  /** Versions of the real components the benchmarks start. */
  tools: Record<string, string>;
}

function versionOf(cmd: string, args: string[], pattern: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return pattern.exec(out)?.[1] ?? 'unknown';
  } catch {
    return 'absent';
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: (cpus[0]?.model ?? 'unknown').replace(/\s+/g, ' ').trim(),
    cores: cpus.length,
    ramBytes: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
    tools: {
      etcd: versionOf('etcd', ['--version'], /etcd Version:\s*(\S+)/),
      podman: versionOf('podman', ['--version'], /version\s+(\S+)/),
      git: versionOf('git', ['--version'], /version\s+(\S+)/),
    },
  };
}

/** "Intel(R) Xeon(R) ... · 2 cores · 23.5 GiB RAM · Node v20.x · Linux 6.1 · load 1.20". */
export function machineLine(m: Machine): string {
  const gib = (m.ramBytes / 1024 ** 3).toFixed(1);
  const tools = Object.entries(m.tools)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${m.cpuModel} · ${m.cores} cores · ${gib} GiB RAM · Node ${m.node} · ${m.os} · ${tools} · load average ${m.loadAverage} at start`;
}
