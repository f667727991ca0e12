// `ozy ingress --workers N`: N processes serving the same listening sockets
// (node:cluster shares them; the kernel and the primary spread connections).
// One Node process proxies on one core; a node with more cores serves more
// requests with more workers. Each worker is a whole ingress (its own etcd
// watches, route table and instance connections): nothing is shared but the
// listening sockets, so a worker that dies loses only its own connections,
// and it is started again.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { untilSignal } from '../cli/signals';

export const WORKER_ENV = 'OZY_INGRESS_WORKER';
const RESPAWN_PAUSE_MS = 1_000;

/** A worker tells the primary where it listens (the first one's address is logged). */
export interface ListeningMessage {
  type: 'ozy-ingress-listening';
  address: string;
}

export function isIngressWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

export function announceListening(address: string): void {
  process.send?.({ type: 'ozy-ingress-listening', address } satisfies ListeningMessage);
}

/** The primary: forks the workers, restarts those that die, stops them on SIGINT/SIGTERM. */
export async function runWorkers(count: number, log: Logger): Promise<number> {
  let stopping = false;
  let announced = false;
  const workers = new Set<Worker>();
  const fork = (): void => {
    const w = cluster.fork({ [WORKER_ENV]: '1' });
    workers.add(w);
    w.on('message', (m: unknown) => {
      const msg = m as Partial<ListeningMessage>;
      if (msg?.type !== 'ozy-ingress-listening' || announced) return;
      announced = true;
      log.info({ address: msg.address, workers: count }, 'ingress listening');
    });
    w.once('exit', (code, signal) => {
      workers.delete(w);
      if (stopping) return;
      log.error({ pid: w.process.pid, code, signal }, 'ingress worker died; starting another');
      setTimeout(fork, RESPAWN_PAUSE_MS).unref();
    });
  };
  for (let i = 0; i < count; i++) fork();
  const signal = await untilSignal();
  stopping = true;
  log.info({ signal }, 'stopping workers');
  const exits = [...workers].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
  for (const w of workers) w.process.kill('SIGTERM');
  await Promise.all(exits);
  return 0;
}
