// `--listen` values of the servers (`ozy ingress`, `ozy dns`), pure:
//   "127.0.0.1:8080", "[::1]:53", ":80" (every address), "8080" (same),
//   "fd:3" (a socket systemd passed in, see docs/ingress.md).

/** Where to listen: a host and port, or an inherited file descriptor. */
export type ListenTarget = { host: string; port: number } | { fd: number };

/** Returns the target, or a sentence saying what is wrong. */
export function parseListen(text: string, defaultHost = '0.0.0.0'): ListenTarget | string {
  const t = text.trim();
  const fd = /^fd:(\d+)$/.exec(t);
  if (fd) return { fd: Number(fd[1]) };
  let host = defaultHost;
  let portText = t;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(t);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (t.includes(':')) {
    const i = t.lastIndexOf(':');
    host = t.slice(0, i) || defaultHost;
    portText = t.slice(i + 1);
    if (host.includes(':')) return `"${text}": put an IPv6 address in brackets, e.g. [::1]:8080`;
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return `"${text}": expected HOST:PORT, :PORT or fd:N`;
  return { host, port: Number(portText) };
}

export function formatListen(t: ListenTarget): string {
  if ('fd' in t) return `fd:${t.fd}`;
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}
