// Where things live in the state dir (pure).
import * as path from 'node:path';

export interface StateLayout {
  root: string;
  logs: string;
  etcdData: string;
  etcdLog: string;
  podmanDir: string;
  podmanSocket: string;
  podmanLog: string;
  /** GIT_PROJECT_ROOT of our own repositories. */
  gitRoot: string;
  gitHome: string;
  /** The job repository made from examples/ or --repo-dir. */
  jobsRepo: string;
  /** The ports of the last run, preferred by the next. */
  portsFile: string;
}

export function stateLayout(root: string): StateLayout {
  const logs = path.join(root, 'logs');
  return {
    root,
    logs,
    etcdData: path.join(root, 'etcd'),
    etcdLog: path.join(logs, 'etcd.log'),
    podmanDir: path.join(root, 'podman'),
    // Unix socket paths are limited to 107 bytes; keep this one short.
    podmanSocket: path.join(root, 'podman.sock'),
    podmanLog: path.join(logs, 'podman.log'),
    gitRoot: path.join(root, 'git'),
    gitHome: path.join(root, 'git', '.home'),
    jobsRepo: path.join(root, 'git', 'jobs.git'),
    portsFile: path.join(root, 'ports.json'),
  };
}
