// Drain: the step before an instance's containers get SIGTERM (DESIGN.md,
// "Rolling updates and migration"). Traffic must stop before the process
// does, or requests in flight through `ozy ingress` and clients that just
// resolved its DNS name fail:
//   1. withdraw: the DNS record goes, the status loses its ingress endpoints
//      (state unchanged, message "draining")
//   2. wait until those etcd writes have landed
//   3. wait drainDelayMs more, so every `ozy ingress` watching etcd has seen
//      it: skipped when nothing routed traffic here (never healthy), and
//      when the writes failed (etcd away: no ingress can learn it by waiting)
// Fenced (the lease is gone, or may be), the writes cannot land or must not
// be waited for: the instances run elsewhere now and every second counts, so
// the drain only asks for the DNS record to go (the lease-bound sink decides
// whether it may) and returns; no status is put on a lease that is gone.
import type { Logger } from 'pino';
import type { InstanceStatus } from '../model/cluster';
import type { StatusPublisher } from './instance-publisher';

export interface DrainOptions {
  /** Wait for the writes and the propagation delay (false when fenced). */
  wait: boolean;
  /** How long every `ozy ingress` gets to see the withdrawal. */
  delayMs: number;
  now: () => number;
  log: Logger;
  /** Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** The status to publish while the instance drains: the last one, no endpoints, its state kept. */
export function drainingStatus(last: InstanceStatus, nowMs: number): InstanceStatus {
  const { endpoints: _gone, ...rest } = last;
  return { ...rest, message: 'draining', updatedAt: new Date(nowMs).toISOString() };
}

/**
 * Takes the instance of `publisher` out of DNS and ingress. `last` is its
 * current status (absent when no supervisor knows it: only the DNS record
 * goes). Never throws: a write that fails is logged by the publisher and
 * retried later; the stop goes on (losing etcd must not keep a container
 * from stopping).
 */
export async function drain(publisher: StatusPublisher, last: InstanceStatus | undefined, opts: DrainOptions): Promise<void> {
  const started = opts.now();
  if (!opts.wait) {
    publisher.withdraw();
    publisher.kick();
    opts.log.info({ instance: publisher.instance }, 'drain: out of DNS and ingress (not waited for: fenced)');
    return;
  }
  publisher.withdraw(last === undefined ? undefined : drainingStatus(last, started));
  const landed = await publisher.flush();
  const wroteMs = opts.now() - started;
  const routed = publisher.routed;
  if (landed && routed) await (opts.sleep ?? delay)(opts.delayMs);
  const fields = { instance: publisher.instance, drainMs: opts.now() - started, wroteMs, routed };
  if (landed) opts.log.info(fields, routed ? 'drained' : 'drained (it took no traffic: no delay)');
  else opts.log.warn(fields, 'drain: the DNS / endpoint removal is not written yet (etcd); stopping anyway, the write is retried');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
