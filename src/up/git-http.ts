// Git over smart HTTP: Node's http server running `git http-backend` as a
// CGI program (ENVIRONMENT.md: isomorphic-git speaks only HTTP, and this is
// what works here). `ozy up` serves the job repository with it; the test
// harness wraps the same handler with fault injection.
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';

/** Environment for git processes: no system or user config can leak in (or be changed). */
export function isolatedGitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
  };
}

export interface GitBackendOptions {
  /** Directory holding the served repositories: /<name> maps to <projectRoot>/<name>. */
  projectRoot: string;
  /** HOME for the backend processes (an empty dir of ours). */
  home: string;
  /** receive-pack refuses anonymous pushes unless a user is set. Default "anonymous". */
  remoteUser?: string;
  serverSoftware?: string;
}

/** The CGI bridge: one `git http-backend` process per request. */
export class GitHttpBackend {
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly opts: GitBackendOptions) {}

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const env: NodeJS.ProcessEnv = {
      ...isolatedGitEnv(this.opts.home),
      GIT_PROJECT_ROOT: this.opts.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_SOFTWARE: this.opts.serverSoftware ?? 'ozy',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: safeDecode(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: this.opts.remoteUser ?? 'anonymous',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    // CGI passes every request header as HTTP_*; http-backend needs e.g. Content-Encoding and Git-Protocol.
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
    }
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    this.children.add(child);
    child.on('close', () => this.children.delete(child));
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
  }

  /** Kills the backend processes still answering requests. */
  killAll(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }
}

export function parseCgiHeaders(head: string): { status: number; headers: Record<string, string> } {
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

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

export interface GitHttpServerOptions extends GitBackendOptions {
  /** Default 127.0.0.1: the quickstart's repository has no authentication. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
}

export interface GitHttpServer {
  port: number;
  /** http://HOST:PORT/<name> */
  url(repoName: string): string;
  close(): Promise<void>;
}

export async function startGitHttpServer(opts: GitHttpServerOptions): Promise<GitHttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const backend = new GitHttpBackend(opts);
  const server = http.createServer((req, res) => backend.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: (name) => `http://${host}:${port}/${name}`,
    async close() {
      backend.killAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
