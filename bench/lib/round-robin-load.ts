// A CPU load whose total is fixed and spreads evenly over however many
// instances are healthy, for measuring an autoscaler at a steady load: the
// bench plays a round-robin load balancer (what `ozy ingress` does) and
// hands out "requests" at a fixed rate as token files, each instance in
// turn getting the next one in its own directory of the job's `shared`
// volume, `c/<hostname>/t<n>`. The instance works through t0, t1, … in
// order, burning a fixed number of shell loop iterations per token, and
// writes how many it has done to `done` (a shell redirection: no fork per
// token); with nothing to do it sleeps 0.2 s. So the cluster's CPU use is
// tokens/s × CPU per token whatever the count, plus a small idle cost per
// instance (the polling, the health checks), which the calibration measures.
//
// Why not one shared queue that instances take tokens from: assigning ~50
// tokens/s at random (whichever instance looks first) put ±15 % on the
// per-instance average over a 2 s sample — more than the autoscaler's
// ±10 % band, so the bench itself made the count move (trial in git history).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Shell loop iterations per token: a few ms of CPU, so a 2 s sample period holds dozens of tokens. */
export const BURN_ITERATIONS = 1500;

/** The instance's script (busybox sh): httpd answers the health check, the loop works through its tokens. */
export function consumerScript(iterations = BURN_ITERATIONS): string {
  return [
    "trap 'exit 0' TERM",
    'd=/shared/c/$(hostname)',
    'mkdir -p /srv $d',
    'echo ok > /srv/health.txt',
    '/bin/httpd -f -p 8080 -h /srv &',
    'n=0',
    'while :; do',
    '  if [ -e $d/t$n ]; then',
    `    i=0; while [ $i -lt ${iterations} ]; do i=$((i+1)); done`,
    '    n=$((n+1)); echo $n > $d/done',
    '  else',
    '    sleep 0.2',
    '  fi',
    'done',
  ].join('\n');
}

interface Consumer {
  dir: string;
  /** Next token number to write. */
  next: number;
  /** Tokens below this number are deleted. */
  reaped: number;
  /** Tokens done, as last read. */
  done: number;
}

export class RoundRobinLoad {
  private readonly consumers = new Map<string, Consumer>();
  private turn = 0;
  private writes = 0;

  /**
   * `volume`: the host directory of the job's shared volume (sharedVolumePath);
   * `healthy()`: the hostnames of the instances to spread over, now.
   */
  constructor(
    private readonly volume: string,
    private readonly healthy: () => readonly string[],
  ) {}

  /** Puts `n` tokens in front of every healthy instance at once (an overfull queue, for calibration). */
  fill(n: number): void {
    for (const host of this.healthy()) for (let i = 0; i < n; i++) this.write(host);
  }

  /** Tokens handed out, in all. */
  written(): number {
    return this.writes;
  }

  /** Tokens the instances have done, in all. */
  taken(): number {
    let sum = 0;
    for (const c of this.consumers.values()) sum += this.readDone(c);
    return sum;
  }

  /** Tokens written and not done yet. */
  backlog(): number {
    let sum = 0;
    for (const c of this.consumers.values()) sum += c.next - this.readDone(c);
    return sum;
  }

  /**
   * Hands out `perSecond` tokens a second, round-robin over the healthy
   * instances, until stopped, drift-free (each tick tops up to elapsed ×
   * rate, so a late timer loses nothing), and deletes done tokens every
   * 10 s. Returns the stop function.
   */
  produce(perSecond: number): () => void {
    const t0 = performance.now();
    let produced = 0;
    const tick = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
      for (; produced < due; produced++) {
        const hosts = this.healthy();
        if (hosts.length === 0) break; // nobody to send to: the tokens go out when someone is
        this.write(hosts[this.turn++ % hosts.length]!);
      }
    }, 50);
    const reaper = setInterval(() => this.reap(), 10_000);
    return () => {
      clearInterval(tick);
      clearInterval(reaper);
    };
  }

  private consumer(host: string): Consumer {
    let c = this.consumers.get(host);
    if (!c) {
      c = { dir: path.join(this.volume, 'c', host), next: 0, reaped: 0, done: 0 };
      fs.mkdirSync(c.dir, { recursive: true });
      this.consumers.set(host, c);
    }
    return c;
  }

  private write(host: string): void {
    const c = this.consumer(host);
    fs.writeFileSync(path.join(c.dir, `t${c.next++}`), '');
    this.writes++;
  }

  /** The instance's `done` (a read can catch the file truncated mid-write: the last value stands). */
  private readDone(c: Consumer): number {
    try {
      const n = Number.parseInt(fs.readFileSync(path.join(c.dir, 'done'), 'utf8'), 10);
      if (Number.isFinite(n) && n >= c.done) c.done = n;
    } catch {
      // not written yet
    }
    return c.done;
  }

  private reap(): void {
    for (const c of this.consumers.values()) {
      const done = this.readDone(c);
      for (; c.reaped < done; c.reaped++) fs.rmSync(path.join(c.dir, `t${c.reaped}`), { force: true });
    }
  }
}
