// Why a TLS connection to etcd fails, asked directly. gRPC does not always
// say: when the handshake fails inside etcd3's token request (etcd with
// users), it reports only "No connection established. Last error: null".
// So, when a call to an https:// etcd finds it unavailable, the driver
// makes one handshake of its own with the same CA and client certificate
// and sends the HTTP/2 preface (a server that refuses the client
// certificate says so only after a TLS 1.3 handshake completes): Node's
// words for a failure, or undefined when etcd accepts the connection or
// cannot be reached at all.
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { EtcdTls } from './etcd-access';

// HTTP/2 connection preface and an empty SETTINGS frame: etcd answers with its SETTINGS.
const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

export function probeTls(endpoint: string, t: EtcdTls | undefined, timeoutMs: number): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return Promise.resolve(undefined);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    let done = false;
    const socket = tls.connect({
      host,
      port: Number(url.port || 2379),
      ALPNProtocols: ['h2'],
      // SNI takes names only; an IP is checked against the certificate's IP SANs all the same.
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(t?.ca ? { ca: t.ca } : {}),
      ...(t?.cert && t.key ? { cert: t.cert, key: t.key } : {}),
    });
    const finish = (why: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.once('secureConnect', () => socket.write(H2_PREFACE));
    socket.once('data', () => finish(undefined));
    // 'on', not 'once': a second error after destroy() must not go unhandled.
    socket.on('error', (err: Error) => finish(err.message));
    socket.once('close', () => finish(undefined));
  });
}
