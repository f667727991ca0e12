// Where a command finds the cluster when it is not told: a running `ozy up`
// records its endpoints in `<state-dir>/up.json` (up/state-file.ts). The
// CLI looks in `OZY_UP_STATE_DIR` when set, else in ozy up's default state
// dir, and believes the record only while the `ozy up` that wrote it runs
// (a stale file from a crashed run must not send commands to a dead port).
import { defaultStateDir } from '../up/options';
import { procProbe, StateFile, upIsAlive, type ProcessProbe, type UpState } from '../up/state-file';

/** The record of the `ozy up` running on this machine, if any. */
export function runningUp(env: NodeJS.ProcessEnv, probe: ProcessProbe = procProbe): UpState | undefined {
  const dir = env.OZY_UP_STATE_DIR !== undefined && env.OZY_UP_STATE_DIR !== '' ? env.OZY_UP_STATE_DIR : defaultStateDir();
  const state = new StateFile(dir).read();
  return state !== undefined && state.phase !== 'stopping' && upIsAlive(state, probe) ? state : undefined;
}

/** Where etcd is, when neither `--etcd` nor OZY_ETCD says: the running ozy up's, else etcd's default. */
export const DEFAULT_ETCD = 'http://127.0.0.1:2379';

export function discoveredEtcd(env: NodeJS.ProcessEnv, probe: ProcessProbe = procProbe): string {
  return runningUp(env, probe)?.etcd?.endpoint ?? DEFAULT_ETCD;
}
