// Was an exited container OOM killed? The verdict, and where it came from.
//
// Sources, most trustworthy first:
//   engine   dockerd sets State.OOMKilled and sends an `oom` event;
//   cgroup   the container's memory cgroup: its oom_kill counter
//            (v1 memory.oom_control, v2 memory.events) while the cgroup
//            exists, else the kernel's record of that cgroup's OOM kill
//            (`oom-kill: ... oom_memcg=/.../libpod-<id>` in /dev/kmsg);
//   exit-code exit 137 with a memory limit, not stopped or killed by anyone
//            through the engine: a guess, used only when neither says.
//
// Measured on podman 4.3.1 + runc, cgroup v1 hybrid (the CI machines): the
// engine never says (no `oom` event, OOMKilled always false: conmon watches
// the v2 hierarchy, which has no memory controller here); the counter does
// go to 1, but runc removes the cgroup ~80 ms after the kill, before the
// engine publishes `die`, so by the time we ask only the kernel's record is
// left. That record is what answers here.
import * as fs from 'node:fs';

export type OomSource = 'engine' | 'cgroup' | 'exit-code';

/** What the cgroup side knows about one container. */
export type CgroupOomReading = 'oom' | 'no-oom' | 'unknown';

/** Reads the cgroup side for a container id; injected so tests and other hosts can replace it. */
export type CgroupOomProbe = (containerId: string) => CgroupOomReading;

export interface OomFacts {
  state: string;
  exitCode: number;
  /** State.OOMKilled, or an `oom` event seen for this run. */
  oomKilledReported: boolean;
  memoryLimit: number;
  /** This process stopped or force-removed it (our SIGKILL after the stop timeout is 137 too). */
  stoppedByUs: boolean;
  /** Someone killed it through the engine (a `kill` event since its last start). */
  killedThroughEngine: boolean;
}

export interface OomVerdict {
  oomKilled: boolean;
  /** Which source decided; undefined when it did not exit by a kill at all. */
  source?: OomSource;
}

/**
 * The verdict. `cgroup` is asked only for a container that died of SIGKILL
 * (137: the OOM killer's signal) while under a limit, so a clean exit costs
 * no file reads.
 */
export function judgeOom(f: OomFacts, cgroup: () => CgroupOomReading): OomVerdict {
  if (f.state !== 'exited' && f.state !== 'dead') return { oomKilled: false };
  if (f.oomKilledReported) return { oomKilled: true, source: 'engine' };
  if (f.exitCode !== 137 || f.memoryLimit <= 0) return { oomKilled: false };
  const reading = cgroup();
  if (reading === 'oom') return { oomKilled: true, source: 'cgroup' };
  if (reading === 'no-oom') return { oomKilled: false, source: 'cgroup' };
  return { oomKilled: !f.stoppedByUs && !f.killedThroughEngine, source: 'exit-code' };
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Where engines put a container's memory cgroup (podman cgroupfs / systemd, dockerd), v1 then v2. */
function cgroupFiles(id: string): string[] {
  const dirs = [`libpod_parent/libpod-${id}`, `machine.slice/libpod-${id}.scope`, `docker/${id}`, `system.slice/docker-${id}.scope`];
  return [...dirs.map((d) => `${CGROUP_ROOT}/memory/${d}/memory.oom_control`), ...dirs.map((d) => `${CGROUP_ROOT}/${d}/memory.events`)];
}

/** Both v1 memory.oom_control and v2 memory.events carry an `oom_kill N` line. */
const OOM_KILL_LINE = /^oom_kill (\d+)$/m;

/** The host's cgroup side: the live counter if the cgroup is still there, else the kernel's OOM record. */
export const hostCgroupOomProbe: CgroupOomProbe = (id) => {
  for (const file of cgroupFiles(id)) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const n = Number(OOM_KILL_LINE.exec(text)?.[1] ?? NaN);
    if (Number.isFinite(n)) return n > 0 ? 'oom' : 'no-oom';
  }
  return kernelLogNamesOom(id, readKernelLog()) ? 'oom' : 'unknown';
};

/** True when a kernel OOM record names the container's memory cgroup (pure; `lines` from /dev/kmsg). */
export function kernelLogNamesOom(id: string, lines: readonly string[]): boolean {
  if (!/^[0-9a-f]{12,64}$/.test(id)) return false;
  return lines.some((l) => l.includes('oom-kill:') && (l.includes('oom_memcg=') || l.includes('task_memcg=')) && l.includes(id));
}

/** At most this many records are read: the ring buffer is bounded, this guards against a flood. */
const MAX_KMSG_RECORDS = 50_000;

/**
 * The kernel log's records, read without blocking (O_NONBLOCK: the read ends
 * at the newest record with EAGAIN, so no thread waits on the device).
 * Empty when /dev/kmsg cannot be read (not root, a container without it).
 */
function readKernelLog(): string[] {
  let fd: number;
  try {
    fd = fs.openSync('/dev/kmsg', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return [];
  }
  const out: string[] = [];
  const buf = Buffer.alloc(8192);
  try {
    while (out.length < MAX_KMSG_RECORDS) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        // EPIPE: the record we were at was overwritten; the next read goes on with the oldest left.
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') continue;
        break;
      }
      if (n <= 0) break;
      out.push(buf.toString('utf8', 0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}
