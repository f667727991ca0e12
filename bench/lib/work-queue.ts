// A CPU load whose total is fixed and spreads over however many instances
// run, for measuring an autoscaler at a steady load: a work queue in a
// job's `shared` volume. The bench (producer) drops empty token files into
// `q/` at a fixed rate; every instance takes tokens by renaming them into
// `done/` (rename is atomic: of two instances racing for a token one wins,
// the other's `mv` fails and it moves on) and burns a fixed number of shell
// loop iterations per token. An instance that found nothing sleeps 0.2 s.
// So the cluster's CPU use is (tokens/s × CPU per token) whatever the
// count, plus a small idle cost per instance (the polling, the health
// checks), which the calibration measures.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Shell loop iterations per token: a few ms of CPU, so a 2 s sample period holds dozens of tokens and one more or less is noise. */
export const BURN_ITERATIONS = 1500;

/**
 * The instance's script (busybox sh): httpd answers the health check; the
 * loop checks a token is still there with the `[` builtin before forking
 * `mv`, so most tokens another instance took cost no fork.
 */
export function consumerScript(iterations = BURN_ITERATIONS): string {
  return [
    "trap 'exit 0' TERM",
    'mkdir -p /srv /shared/q /shared/done',
    'echo ok > /srv/health.txt',
    '/bin/httpd -f -p 8080 -h /srv &',
    'while :; do',
    '  took=0',
    '  for f in /shared/q/t*; do',
    '    [ -e "$f" ] || continue',
    '    mv "$f" /shared/done/ 2>/dev/null || continue',
    '    took=1',
    `    i=0; while [ $i -lt ${iterations} ]; do i=$((i+1)); done`,
    '  done',
    '  [ $took = 1 ] || sleep 0.2',
    'done',
  ].join('\n');
}

export class WorkQueue {
  readonly queueDir: string;
  readonly doneDir: string;
  private seq = 0;

  /** `volume`: the host directory of the job's shared volume (sharedVolumePath). */
  constructor(volume: string) {
    this.queueDir = path.join(volume, 'q');
    this.doneDir = path.join(volume, 'done');
    fs.mkdirSync(this.queueDir, { recursive: true });
    fs.mkdirSync(this.doneDir, { recursive: true });
  }

  /** Tokens waiting. */
  backlog(): number {
    return fs.readdirSync(this.queueDir).length;
  }

  /** Tokens taken since the last reap. */
  taken(): number {
    return fs.readdirSync(this.doneDir).length;
  }

  add(n: number): void {
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(this.queueDir, `t${String(this.seq++).padStart(9, '0')}`), '');
  }

  /** Empties the queue (tokens not taken yet are dropped). */
  drain(): void {
    for (const f of fs.readdirSync(this.queueDir)) fs.rmSync(path.join(this.queueDir, f), { force: true });
  }

  /** Deletes the taken tokens, returning how many there were (the directory would otherwise grow for the whole run). */
  reap(): number {
    const names = fs.readdirSync(this.doneDir);
    for (const f of names) fs.rmSync(path.join(this.doneDir, f), { force: true });
    return names.length;
  }

  /**
   * Produces `perSecond` tokens a second until stopped, drift-free (each
   * tick tops up to `elapsed × rate`, so a late timer does not lose tokens),
   * and reaps `done/` every 10 s. Returns a stop function giving the totals.
   */
  produce(perSecond: number): () => { produced: number; taken: number } {
    const t0 = performance.now();
    let produced = 0;
    let taken = 0;
    const tick = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
      this.add(due - produced);
      produced = due;
    }, 50);
    const reaper = setInterval(() => {
      taken += this.reap();
    }, 10_000);
    return () => {
      clearInterval(tick);
      clearInterval(reaper);
      taken += this.reap();
      return { produced, taken };
    };
  }
}
