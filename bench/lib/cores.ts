// Giving the processes of a latency measurement their own cores (taskset)
// and precedence over the rest of the machine (SCHED_FIFO, chrt), and
// reading back, from /proc, how much CPU a process used and how long it
// waited for a CPU meanwhile: the evidence that a figure measured on a
// shared machine is the process's and not its neighbours'. Linux only.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The CPU affinity of a process as taskset's hex mask ("3"), to put it back later. */
export async function affinityOf(pid: number): Promise<string> {
  const { stdout } = await run('taskset', ['-p', String(pid)]);
  const mask = /affinity mask:\s*([0-9a-f]+)/i.exec(stdout)?.[1];
  if (!mask) throw new Error(`cannot read taskset's output: ${stdout}`);
  return mask;
}

/** Pins every thread of `pid` (libuv's and V8's too) to `cpus`: a `taskset -c` list, or a hex mask with `mask: true`. */
export async function pin(pid: number, cpus: string, mask = false): Promise<void> {
  await run('taskset', ['-a', '-p', ...(mask ? [] : ['-c']), cpus, String(pid)]);
}

/** Every thread of `pid` under SCHED_FIFO at `priority`; 0 puts them back under the normal scheduler. */
export async function realtime(pid: number, priority: number): Promise<void> {
  await run('chrt', ['-a', priority > 0 ? '-f' : '-o', '-p', String(priority), String(pid)]);
}

/**
 * A busy loop on `cpu` under SCHED_IDLE (everything else preempts it): keeps
 * that CPU from going idle. On a VM whose idle CPUs halt (no cpuidle driver),
 * the host deschedules a halted vCPU and waking it again can take
 * milliseconds; a request that crosses to a halted vCPU pays that. Kill it
 * when done.
 */
export function keepBusy(cpu: string): ChildProcess {
  return spawn('chrt', ['-i', '0', 'taskset', '-c', cpu, 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
}

/** Whether this process may use SCHED_FIFO (root, or CAP_SYS_NICE) and taskset and chrt are there. */
export async function canPinAndPrioritize(): Promise<boolean> {
  return run('chrt', ['-f', '1', 'taskset', '-c', '0', 'true']).then(
    () => true,
    () => false,
  );
}

interface Times {
  cpuNs: number;
  waitNs: number;
  mainWaitNs: number;
}

/** CPU time and run-queue wait of all threads of `pid` so far, and the wait of its main thread, in ns. */
function threadTimes(pid: number): Times {
  const t: Times = { cpuNs: 0, waitNs: 0, mainWaitNs: 0 };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    // schedstat: time on a CPU, time runnable but waiting for one, timeslices (ns, ns, count).
    const f = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
    t.cpuNs += Number(f[0]);
    t.waitNs += Number(f[1]);
    if (tid === String(pid)) t.mainWaitNs = Number(f[1]);
  }
  return t;
}

export interface ProcessUse {
  /** CPU time used, ms. */
  cpuMs: number;
  /** Time runnable but waiting for a CPU, ms, summed over threads: what else ran on their cores held them up this long. */
  waitMs: number;
  /** The same for the main threads alone (Node's event loop; V8's helper threads are the others). */
  mainWaitMs: number;
}

/** Starts watching processes (threads that exit meanwhile are missed); the returned function gives their summed use since. */
export function watchProcesses(pids: readonly number[]): () => ProcessUse {
  const sum = (): Times =>
    pids.map(threadTimes).reduce((a, b) => ({ cpuNs: a.cpuNs + b.cpuNs, waitNs: a.waitNs + b.waitNs, mainWaitNs: a.mainWaitNs + b.mainWaitNs }));
  const t0 = sum();
  return () => {
    const t1 = sum();
    return { cpuMs: (t1.cpuNs - t0.cpuNs) / 1e6, waitMs: (t1.waitNs - t0.waitNs) / 1e6, mainWaitMs: (t1.mainWaitNs - t0.mainWaitNs) / 1e6 };
  };
}
