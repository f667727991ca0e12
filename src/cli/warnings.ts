// Process warnings of the `ozy` process. grpc-js names the TLS server after
// the endpoint's host even when that is an IP address (https://10.0.0.1:2379,
// the usual way to reach etcd), and Node then prints DEP0123 ("Setting the
// TLS ServerName to an IP address is not permitted by RFC 6066") on stderr
// of every command that talks to such an etcd. The certificate is still
// checked against the IP (its subjectAltName); the warning only adds noise
// to `ozy status` output and agent logs, so it alone is dropped.

const DROPPED = new Set(['DEP0123']);

export function quietenWarnings(proc: NodeJS.Process = process): void {
  const defaults = proc.listeners('warning');
  proc.removeAllListeners('warning');
  proc.on('warning', (w: Error & { code?: string }) => {
    if (w.code !== undefined && DROPPED.has(w.code)) return;
    for (const l of defaults) l(w);
  });
}
