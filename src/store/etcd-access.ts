// How the store reaches a secured etcd: TLS (the CA that signed etcd's
// server certificate, a client certificate) and etcd's own users. Pure: the
// callers read the files once at start; this checks the combination against
// the endpoints and shapes it for the driver. Messages name the `ozy` flags
// and variables, since that is where a user sets them.
import { rootCertificates } from 'node:tls';
import { InvalidStoreArgumentError } from './errors';

export interface EtcdTls {
  /** PEM of the CA(s) that signed etcd's server certificate (--etcd-ca). Default: the system's CAs. */
  ca?: Buffer;
  /** PEM client certificate (chain) (--etcd-cert); needs `key`. */
  cert?: Buffer;
  /** PEM private key of `cert` (--etcd-key). */
  key?: Buffer;
}

/** An etcd user (OZY_ETCD_USERNAME / OZY_ETCD_PASSWORD). The password is never logged or shown. */
export interface EtcdAuth {
  username: string;
  password: string;
}

export interface EtcdAccess {
  tls?: EtcdTls;
  auth?: EtcdAuth;
}

/** What error messages may say about the access in use: which parts were given, never their contents. */
export interface AccessSummary {
  endpoints: string[];
  ca: boolean;
  cert: boolean;
  username?: string;
}

/** etcd3's `credentials` option (grpc's createSsl arguments). */
export interface TlsCredentials {
  rootCertificate: Buffer;
  privateKey?: Buffer;
  certChain?: Buffer;
}

/**
 * Throws InvalidStoreArgumentError for a combination that cannot work:
 * TLS options with a plain http:// endpoint (etcd3 would speak TLS to it
 * anyway, hiding the mistake), http and https endpoints mixed, a client
 * certificate without its key, a user without a password.
 */
export function checkAccess(endpoints: string[], access: EtcdAccess): AccessSummary {
  const https = endpoints.filter((e) => /^https:\/\//i.test(e));
  const tls = access.tls;
  const anyTls = tls !== undefined && (tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined);
  if (https.length > 0 && https.length < endpoints.length) {
    throw new InvalidStoreArgumentError(`etcd endpoints mix http:// and https:// (${endpoints.join(',')}): use https:// for all of them`);
  }
  if (anyTls && https.length === 0) {
    throw new InvalidStoreArgumentError(`--etcd-ca/--etcd-cert/--etcd-key need https:// etcd endpoints, got ${endpoints.join(',')}`);
  }
  if ((tls?.cert === undefined) !== (tls?.key === undefined)) {
    throw new InvalidStoreArgumentError('--etcd-cert and --etcd-key go together: give both or neither');
  }
  if (access.auth) {
    if (access.auth.username === '') throw new InvalidStoreArgumentError('OZY_ETCD_USERNAME is empty');
    if (access.auth.password === '') throw new InvalidStoreArgumentError(`OZY_ETCD_PASSWORD is needed with OZY_ETCD_USERNAME ("${access.auth.username}")`);
  }
  return {
    endpoints,
    ca: tls?.ca !== undefined,
    cert: tls?.cert !== undefined,
    ...(access.auth ? { username: access.auth.username } : {}),
  };
}

/** etcd3's `credentials` when a CA or client certificate is given; undefined leaves https:// on the system's CAs. */
export function tlsCredentials(tls: EtcdTls | undefined): TlsCredentials | undefined {
  if (!tls || (tls.ca === undefined && tls.cert === undefined)) return undefined;
  return {
    // etcd3 wants a root certificate whenever it gets a client one: the system's stand in.
    rootCertificate: tls.ca ?? Buffer.from(rootCertificates.join('\n')),
    ...(tls.cert && tls.key ? { certChain: tls.cert, privateKey: tls.key } : {}),
  };
}
