// A real git smart-HTTP server on loopback for tests: Node's http server
// running `git http-backend` as a CGI program, so clone, fetch and push
// (by isomorphic-git and by the git CLI) hit real receive-pack/upload-pack.
// Faults can be injected: connections destroyed, HTTP 500, or no answer.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './tmp';

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

/** Environment for every git process the harness runs: no system or user config can leak in. */
export function isolatedGitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
  };
}

function parseCgiHeaders(head: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
    else headers[name] = value;
  }
  return { status, headers };
}

export async function startGitServer(opts: GitServerOptions = {}): Promise<GitServer> {
  const owned = opts.root ? undefined : tempDir('ozy-git-server-');
  const root = opts.root ?? owned!.dir;
  const home = path.join(root, '.home');
  fs.mkdirSync(home, { recursive: true });
  let mode: GitServerFailureMode = 'none';
  const sockets = new Set<Socket>();
  const children = new Set<ReturnType<typeof spawn>>();
  const requests: string[] = [];
  const authorizations: string[] = [];
  const expectedAuth = opts.requireAuth
    ? `Basic ${Buffer.from(`${opts.requireAuth.username}:${opts.requireAuth.password}`).toString('base64')}`
    : undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
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
    const env: NodeJS.ProcessEnv = {
      ...isolatedGitEnv(home),
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_SOFTWARE: 'ozy-test',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      // receive-pack refuses anonymous pushes unless a user is set.
      REMOTE_USER: opts.requireAuth?.username ?? 'anonymous',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
    }
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    children.add(child);
    child.on('close', () => children.delete(child));
    child.on('error', () => {
      if (!res.headersSent) res.writeHead(500).end('cannot run git http-backend');
    });
    child.stdin.on('error', () => undefined); // the backend may exit before reading everything
    req.pipe(child.stdin);

    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      const crlf = text.indexOf('\r\n\r\n');
      const lf = text.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
      if (end < 0) return;
      headersDone = true;
      const { status, headers } = parseCgiHeaders(text.slice(0, end));
      res.writeHead(status, headers);
      if (head.length > end) res.write(head.subarray(end));
    });
    child.stdout.on('end', () => {
      if (!headersDone && !res.headersSent) res.writeHead(502);
      res.end();
    });
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
      for (const c of children) c.kill('SIGKILL');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      owned?.cleanup();
    },
  };
}
