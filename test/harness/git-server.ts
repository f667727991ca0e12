// A real git smart-HTTP server on loopback for tests: Node's http server
// running `git http-backend` as a CGI program, so clone, fetch and push
// (by isomorphic-git and by the git CLI) hit real receive-pack/upload-pack.
// Faults can be injected: connections destroyed, HTTP 500, or no answer.
// The CGI bridge is the production one `ozy up` serves with (src/up/git-http.ts).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GitHttpBackend, isolatedGitEnv } from '../../src/up/git-http';
import { tempDir } from './tmp';

export { isolatedGitEnv };

const run = promisify(execFile);

/**
 * none: serve normally. down: destroy every connection as it opens (the
 * client sees a reset). 500: answer every request with HTTP 500. hang:
 * accept requests and never answer (for timeouts).
 */
export type GitServerFailureMode = 'none' | 'down' | '500' | 'hang';

export interface GitServerOptions {
  /** Directory holding the bare repositories. Default: a temp dir removed by stop(). */
  root?: string;
  /** Require HTTP Basic auth with these credentials on every request. */
  requireAuth?: { username: string; password: string };
  /** Told about every request as it arrives: method, path and query (e.g. "GET /repo/info/refs?service=git-upload-pack"). */
  onRequest?: (method: string, pathAndQuery: string) => void;
}

export interface GitServer {
  root: string;
  /** http://127.0.0.1:PORT/<name> (no credentials in it). */
  url(repoName: string): string;
  /** `git init --bare` with `main` as HEAD and pushes over HTTP enabled; returns its path. */
  createBareRepo(name: string): Promise<string>;
  setFailureMode(mode: GitServerFailureMode): void;
  /** Requests answered or refused so far, by path (e.g. "/repo/info/refs"). */
  requests: string[];
  /** Authorization header values received (to check what clients send). */
  authorizations: string[];
  stop(): Promise<void>;
}

export async function startGitServer(opts: GitServerOptions = {}): Promise<GitServer> {
  const owned = opts.root ? undefined : tempDir('ozy-git-server-');
  const root = opts.root ?? owned!.dir;
  const home = path.join(root, '.home');
  fs.mkdirSync(home, { recursive: true });
  let mode: GitServerFailureMode = 'none';
  const sockets = new Set<Socket>();
  // receive-pack refuses anonymous pushes unless a user is set.
  const backend = new GitHttpBackend({ projectRoot: root, home, remoteUser: opts.requireAuth?.username ?? 'anonymous', serverSoftware: 'ozy-test' });
  const requests: string[] = [];
  const authorizations: string[] = [];
  const expectedAuth = opts.requireAuth
    ? `Basic ${Buffer.from(`${opts.requireAuth.username}:${opts.requireAuth.password}`).toString('base64')}`
    : undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    opts.onRequest?.(req.method ?? 'GET', url.pathname + url.search);
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    if (mode === 'hang') return;
    if (mode === '500') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('injected failure');
      return;
    }
    if (expectedAuth && req.headers.authorization !== expectedAuth) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' }).end('unauthorized');
      return;
    }
    backend.handle(req, res);
  });
  server.on('connection', (socket: Socket) => {
    if (mode === 'down') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    root,
    requests,
    authorizations,
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    async createBareRepo(name) {
      const dir = path.join(root, name);
      await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir], { env: isolatedGitEnv(home) });
      await run('git', ['-C', dir, 'config', 'http.receivepack', 'true'], { env: isolatedGitEnv(home) });
      return dir;
    },
    setFailureMode(next) {
      mode = next;
      // A client with a kept-alive connection would not notice 'down' otherwise.
      if (next === 'down') for (const s of sockets) s.destroy();
    },
    async stop() {
      mode = 'none';
      for (const s of sockets) s.destroy();
      backend.killAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      owned?.cleanup();
    },
  };
}
