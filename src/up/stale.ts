// Cleaning up after an `ozy up` that was killed before it could stop what
// it started: only processes recorded in its up.json whose command line
// still names our state dir are signalled (pids get reused).
import { isOurProcess, procProbe, type UpState } from './state-file';
import { pollUntil } from './wait';

/** A previous `ozy up` on this state dir was killed: stop what it left running (only its own processes). */
export async function cleanUpAfterDeadUp(stale: UpState, say: (l?: string) => void): Promise<void> {
  const rank = (name: string): number => (name.startsWith('agent') ? 0 : name === 'ingress' || name === 'dns' || name === 'dashboard' ? 1 : name === 'podman' ? 2 : 3);
  const entries = Object.entries(stale.processes).sort((a, b) => rank(a[0]) - rank(b[0]));
  const ours = entries.filter(([, p]) => isOurProcess(p, procProbe));
  if (ours.length === 0) return;
  say(`  cleanup     the previous ozy up (pid ${stale.pid}) died; stopping what it left: ${ours.map(([n]) => n).join(', ')}`);
  for (const [, p] of ours) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      continue;
    }
    const gone = await pollUntil('exit', () => !procProbe.alive(p.pid), { timeoutMs: 10_000, intervalMs: 100 }).catch(() => false);
    if (!gone) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }
}

