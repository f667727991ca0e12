// Which programs `ozy up` needs, and how to get them when they are missing.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The absolute path of `bin` on PATH (or `bin` itself when it contains a slash and exists). */
export function findProgram(bin: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (bin.includes('/')) return isExecutable(bin) ? bin : undefined;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The Debian/Ubuntu package providing each program (scripts/install-deps.sh installs them). */
export const PACKAGE_OF: Record<string, string> = {
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  podman: 'podman',
  runc: 'runc',
  git: 'git',
  busybox: 'busybox-static',
};
