// One agent per data dir. The data dir holds the lease id a restarted agent
// resumes; a second live process using it would resume the first one's
// lease and both would act as the same node.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OzyError } from '../errors';

export class DataDirLockedError extends OzyError<'DATA_DIR_LOCKED'> {
  readonly code = 'DATA_DIR_LOCKED';
  readonly retryable = false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dataDir>/agent.pid`; returns the release function. A stale pid file (dead process) is taken over. */
export function lockDataDir(dataDir: string, pid = process.pid): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'agent.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === String(pid)) fs.rmSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== pid && alive(holder)) {
        throw new DataDirLockedError(`data dir ${dataDir} is in use by another agent (pid ${holder})`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new DataDirLockedError(`cannot lock data dir ${dataDir}`);
}
