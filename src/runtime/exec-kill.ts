// Killing an exec (a health check) that ran past its timeout.
//
// Neither Docker's Engine API nor podman's has a call to kill an exec
// session, and closing the attached stream does not stop the process: a
// hung `exec` check would stay in the container, one more per interval,
// until the pids limit is reached. The exec's inspect gives its host pid
// (`Pid`; runc makes it a session and process-group leader), and the
// agent runs on the engine's host as root, so it kills the process from
// the host: its process group, and every descendant found in /proc (a
// child that called setsid left the group).
//
// A pid can be reused once the process is gone, so nothing is killed
// unless /proc says it is inside that container (its cgroup path names the
// container id: `libpod-<id>`, `docker/<id>`, `docker-<id>.scope`, on
// cgroup v1 and v2 alike). An agent that cannot see the engine's processes
// (another pid namespace) kills nothing and says so.
import * as fs from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgrp: number;
}

/** The host's processes, as far as this module needs them; tests pass a fake. */
export interface ProcessTable {
  /** Every visible process. */
  list(): Promise<ProcessInfo[]>;
  /** The content of /proc/<pid>/cgroup, or undefined when there is no such process. */
  cgroupOf(pid: number): Promise<string | undefined>;
  /** kill(2); false when the target is gone (ESRCH). Other errors throw. */
  kill(pid: number, signal: NodeJS.Signals): boolean;
}

export type ExecKillResult =
  /** The exec's process (and its descendants) got SIGKILL. */
  | 'killed'
  /** It had exited (or is not visible from here: another pid namespace). */
  | 'gone'
  /** The pid belongs to something else now (reused): left alone. */
  | 'not-in-container';

/**
 * SIGKILLs the exec process `pid` of container `containerId` (the full
 * engine id) and its descendants, if /proc shows it inside that container.
 */
export async function killExecProcess(pid: number, containerId: string, table: ProcessTable = hostProcessTable): Promise<ExecKillResult> {
  if (!Number.isInteger(pid) || pid <= 1) return 'gone';
  const cgroup = await table.cgroupOf(pid);
  if (cgroup === undefined) return 'gone';
  if (containerId.length < 12 || !cgroup.includes(containerId)) return 'not-in-container';
  // The tree is taken before anything dies: an orphan is re-parented to the container's init and could not be traced after.
  const all = await table.list();
  const tree = descendantsOf(pid, all);
  const self = all.find((p) => p.pid === pid);
  // The group first: one atomic signal for everything that stayed in it (a shell and its pipeline).
  const groupKilled = self?.pgrp === pid && table.kill(-pid, 'SIGKILL');
  const selfKilled = table.kill(pid, 'SIGKILL');
  if (!groupKilled && !selfKilled) return 'gone';
  for (const p of tree) {
    // Only what is still in the container: a descendant's pid may have been reused meanwhile.
    const cg = await table.cgroupOf(p);
    if (cg !== undefined && cg.includes(containerId)) table.kill(p, 'SIGKILL');
  }
  return 'killed';
}

/** Pids below `root` in the parent tree, `root` excluded. */
export function descendantsOf(root: number, processes: readonly ProcessInfo[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of processes) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  const seen = new Set<number>([root]);
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so fields are read after the last ')'. */
export function parseProcStat(text: string): ProcessInfo | undefined {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isInteger(pid)) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  if (!Number.isInteger(ppid) || !Number.isInteger(pgrp)) return undefined;
  return { pid, ppid, pgrp };
}

export const hostProcessTable: ProcessTable = {
  async list() {
    const out: ProcessInfo[] = [];
    for (const name of await fs.promises.readdir('/proc')) {
      if (!/^[0-9]+$/.test(name)) continue;
      // A process may exit between readdir and read: skip it.
      const stat = await fs.promises.readFile(`/proc/${name}/stat`, 'utf8').catch(() => undefined);
      const info = stat === undefined ? undefined : parseProcStat(stat);
      if (info) out.push(info);
    }
    return out;
  },
  async cgroupOf(pid) {
    return fs.promises.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => undefined);
  },
  kill(pid, signal) {
    try {
      process.kill(pid, signal);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw err;
    }
  },
};
