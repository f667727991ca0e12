// Loopback ports for the services `ozy up` starts. Stable ports matter to a
// user (the repo URL they cloned, the etcd endpoint in their shell), so up
// prefers the ports of its previous run, then the well-known defaults, and
// only then any free port.
import * as net from 'node:net';
import { UpError } from './errors';

/** True when nothing listens on 127.0.0.1:`port` (we could bind it a moment ago). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export type PortRole = 'etcdClient' | 'etcdPeer' | 'git' | 'ingress' | 'dns' | 'dashboard';
export type PortSet = Record<PortRole, number>;

/** The defaults: etcd's well-known client and peer ports, then git, the ingress (HTTP), DNS (UDP + TCP) and the dashboard (HTTP). */
export const DEFAULT_PORTS: PortSet = { etcdClient: 2379, etcdPeer: 2380, git: 2381, ingress: 2382, dns: 2383, dashboard: 2384 };

/** `--port-base N`: N … N+5 for etcd client, etcd peer, git, ingress, DNS and the dashboard. */
export function portsFromBase(base: number): PortSet {
  return { etcdClient: base, etcdPeer: base + 1, git: base + 2, ingress: base + 3, dns: base + 4, dashboard: base + 5 };
}

/**
 * Picks a port per role, among the roles needed. `fixed`: exactly these
 * (an error if one is taken). `anyFree`: free ports. Otherwise, per
 * role, the first free of `previous` and `DEFAULT_PORTS`, else a free port.
 */
export async function choosePorts(
  roles: readonly PortRole[],
  opts: { fixed?: PortSet; previous?: Partial<PortSet>; anyFree?: boolean },
  probe: (port: number) => Promise<boolean> = isPortFree,
  pickFree: () => Promise<number> = freePort,
): Promise<Partial<PortSet>> {
  const chosen: Partial<PortSet> = {};
  const taken = new Set<number>();
  for (const role of roles) {
    if (opts.fixed) {
      const port = opts.fixed[role];
      if (!(await probe(port))) throw new UpError('UP_PORT_TAKEN', `port ${port} (${role}) is in use; choose another --port-base, or --port-base 0 for any free ports`, true);
      chosen[role] = port;
      taken.add(port);
      continue;
    }
    const candidates = (opts.anyFree ? [] : [opts.previous?.[role], DEFAULT_PORTS[role]]).filter((p): p is number => typeof p === 'number' && p > 0);
    let port: number | undefined;
    for (const c of candidates) {
      if (!taken.has(c) && (await probe(c))) {
        port = c;
        break;
      }
    }
    while (port === undefined || taken.has(port)) port = await pickFree();
    chosen[role] = port;
    taken.add(port);
  }
  return chosen;
}
