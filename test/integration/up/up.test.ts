// `ozy up` end to end, as a user runs it: a child process with its own state
// dir and free ports starts etcd, podman, the served example repository and
// an agent; the example jobs become healthy and resolvable; a pushed change
// is picked up; a second `ozy up` reports the first; SIGINT leaves nothing
// behind (processes, containers of its nodes, the podman socket).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ozyEntry } from '../../../src/paths';
import { ClusterStore } from '../../../src/store';
import { readClusterStatus } from '../../../src/up/follow';
import { CONTAINERS_CONF } from '../../../src/up/podman';
import type { UpState } from '../../../src/up/state-file';
import { merge } from '../../harness/cluster';
import { rawGet, rawKeys, startEtcd, type EtcdServer } from '../../harness/etcd';
import { cloneAsUser, type GitUser } from '../../harness/git-user';
import { tempDir } from '../../harness/tmp';
import { waitFor } from '../../harness/wait';
import { readReadme, walkthroughBlock, walkthroughScript } from './readme-walkthrough';
import { projectRoot } from '../../../src/paths';

const run = promisify(execFile);
const tmp = tempDir('ozy-up-e2e-');
const stateDir = path.join(tmp.dir, 'state');
const prefix = `t-${randomBytes(3).toString('hex')}`;
const node = `${prefix}-1`;
const EXAMPLE_JOBS = ['crunch', 'greeter', 'hello', 'hello-cron', 'node-info', 'simple-webapp', 'web'];
/** Cron jobs have no standing instances (their pods belong to runs). */
const CRON_EXAMPLES = new Set(['hello-cron']);

interface UpProcess {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startUp(extra: string[] = [], dir = stateDir): UpProcess {
  const args = [
    ozyEntry(), 'up',
    '--state-dir', dir,
    '--agents', '1',
    '--node-prefix', prefix,
    '--poll', '300ms',
    '--refresh', '300ms',
    '--port-base', '0',
    '--memory', '1G',
    '--cpus', '2',
    '--disk', '4G',
    ...extra,
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, stdout: () => out, stderr: () => err, exit };
}

function readState(dir = stateDir): UpState | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'up.json'), 'utf8')) as UpState;
  } catch {
    return undefined;
  }
}

/**
 * The pid exists and has not exited. Orphans (the children of a killed ozy
 * up) that exited are zombies until init reaps them, which can take a second
 * or two: they have stopped, and that is all a test may ask of ozy up.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 1).trim().startsWith('Z');
  } catch {
    return false;
  }
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Containers labelled with our node, through the podman CLI (the service socket is gone by then). */
async function containersOfNode(): Promise<string[]> {
  const conf = path.join(tmp.dir, 'containers.conf');
  fs.writeFileSync(conf, CONTAINERS_CONF);
  const { stdout } = await run('podman', ['ps', '-a', '--filter', `label=ozy.node=${node}`, '--format', '{{.Names}}'], {
    env: { ...process.env, CONTAINERS_CONF: conf },
  });
  return stdout.split('\n').filter(Boolean);
}

let up: UpProcess | undefined;
let store: ClusterStore | undefined;
let user: GitUser | undefined;
let lastState: UpState | undefined;
const others: UpProcess[] = [];
const otherStates: UpState[] = [];
let externalEtcd: EtcdServer | undefined;

after(async () => {
  await store?.close().catch(() => undefined);
  for (const o of others) if (o.proc.exitCode === null && o.proc.signalCode === null) o.proc.kill('SIGKILL');
  for (const st of otherStates) for (const p of Object.values(st.processes)) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
  await externalEtcd?.stop();
  user?.cleanup();
  if (up && up.proc.exitCode === null && up.proc.signalCode === null) {
    up.proc.kill('SIGINT');
    await within(up.exit, 60_000);
  }
  // A failed test must not leave processes or containers behind.
  for (const p of Object.values(readState()?.processes ?? lastState?.processes ?? {})) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
  const left = await containersOfNode().catch(() => []);
  if (left.length) {
    const conf = path.join(tmp.dir, 'containers.conf');
    await run('podman', ['rm', '-f', ...left], { env: { ...process.env, CONTAINERS_CONF: conf } }).catch(() => undefined);
  }
  tmp.cleanup();
});

describe('ozy up', () => {
  test('starts a cluster running the examples, follows a push, and stops everything it started', { timeout: 400_000 }, async () => {
    up = startUp();
    const u = up;
    const failed = () => `ozy up exited (${u.proc.exitCode})\nstdout:\n${u.stdout()}\nstderr:\n${u.stderr()}`;

    // 1. Everything is started and recorded.
    const state = await waitFor(
      'ozy up to be running',
      () => {
        if (u.proc.exitCode !== null) throw new Error(failed());
        const s = readState();
        return s?.phase === 'running' ? s : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    ).catch((err: Error) => assert.fail(`${err.message}\n${failed()}`));
    lastState = state;
    const etcd = state.etcd!.endpoint;
    const repoUrl = state.git!.url;
    const socket = state.podman!.socketPath;
    assert.equal(state.etcd!.startedByUp, true);
    assert.equal(state.podman!.startedByUp, true);
    assert.ok(socket.startsWith(stateDir) && fs.existsSync(socket));
    assert.deepEqual(state.nodes, [node]);
    assert.deepEqual(Object.keys(state.processes).sort(), ['agent ' + node, 'dashboard', 'dns', 'etcd', 'ingress', 'podman'].sort());
    assert.ok(state.ingress && u.stdout().includes(`curl -H 'Host: hello.ozy.test' http://${state.ingress.address}/`), u.stdout());
    assert.ok(state.dns && u.stdout().includes(`-p ${state.dns.address.split(':')[1]}`), u.stdout());
    assert.ok(u.stdout().includes(`git clone ${repoUrl}`), u.stdout());
    assert.ok(u.stdout().includes(`status --etcd ${etcd}`), u.stdout());
    // The dashboard it started answers on the address it printed, and shows the node.
    assert.ok(state.dashboard && u.stdout().includes(`http://${state.dashboard.address}/`), u.stdout());
    const nodes = await waitFor('the dashboard to show the node', async () => {
      const r = await httpGet(`http://${state.dashboard!.address}/api/nodes`, { host: state.dashboard!.address });
      return r.status === 200 && r.body.includes(`"name":"${node}"`) ? r : undefined;
    }, { timeoutMs: 30_000 });
    assert.equal(nodes.status, 200);

    // 2. The example jobs become healthy, and their DNS keys appear.
    store = ClusterStore.connect({ endpoints: [etcd] });
    const s = store;
    await waitFor(
      'the example jobs to be healthy',
      async () => {
        if (u.proc.exitCode !== null) throw new Error(failed());
        const st = await readClusterStatus(s);
        const names = st.jobs.map((j) => j.name).sort();
        return JSON.stringify(names) === JSON.stringify(EXAMPLE_JOBS) && st.jobs.every((j) => j.healthy === j.desired && (j.desired > 0 || CRON_EXAMPLES.has(j.name)));
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    ).catch(async (err: Error) => {
      const st = await readClusterStatus(s).catch(() => undefined);
      assert.fail(`${err.message}\nstatus: ${JSON.stringify(st, null, 1)}\nagent log:\n${tail(path.join(stateDir, 'logs', `${node}.log`))}\n${failed()}`);
    });
    const st = await readClusterStatus(s);
    const expectedKeys = st.instances.map((i) => `/skydns/local/ozy/${i.job}/${i.instance}`).sort();
    await waitFor('DNS keys of every instance', async () => {
      const keys = await rawKeys(etcd, '/skydns/local/ozy/');
      return expectedKeys.every((k) => keys.includes(k));
    }, { timeoutMs: 30_000 });
    const record = JSON.parse((await rawGet(etcd, '/skydns/local/ozy/hello/hello-0'))!) as { host: string; port: number };
    assert.equal(record.port, 8000);
    // Through the ingress it started, by Host header, as the printed curl does.
    const viaIngress = await waitFor('hello through the ingress', async () => {
      const r = await httpGet(`http://${state.ingress!.address}/`, { host: 'hello.ozy.test' });
      return r.status === 200 ? r.body : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(viaIngress, /^hello from /);
    // The autoscaled example answers through the ingress, and status shows its count and bounds.
    const work = await waitFor('crunch through the ingress', async () => {
      const r = await httpGet(`http://${state.ingress!.address}/work.txt`, { host: 'crunch.ozy.test' });
      return r.status === 200 ? r.body : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(work, /^crunched by /);
    const crunch = st.jobs.find((j) => j.name === 'crunch')?.autoscale;
    assert.deepEqual([crunch?.count, crunch?.min, crunch?.max, crunch?.targetPercent], [1, 1, 4, 50]);
    // And its name service, as the printed dig does.
    const [dnsHost, dnsPort] = state.dns!.address.split(':');
    const { stdout: aRecords } = await run('dig', [`@${dnsHost}`, '-p', dnsPort!, '+norecurse', '+short', 'hello.ozy.local', 'A']);
    assert.equal(aRecords.trim().split('\n').filter(Boolean).length, 2, aRecords);
    await waitFor('the summary to report all instances healthy', () => new RegExp(`instances ${expectedKeys.length}/${expectedKeys.length} healthy`).test(u.stdout()), { timeoutMs: 10_000 });
    // Load it as the README says (about 5 requests/s through the ingress): it scales up.
    await waitFor('crunch to scale up under load', async () => {
      await httpGet(`http://${state.ingress!.address}/work.txt`, { host: 'crunch.ozy.test' }).catch(() => undefined);
      return ((await readClusterStatus(s)).jobs.find((j) => j.name === 'crunch')?.autoscale?.count ?? 0) >= 2;
    }, { timeoutMs: 60_000, intervalMs: 200 });

    // 3. A second `ozy up` on the same state dir reports the first and exits 3.
    const second = startUp();
    assert.equal(await second.exit, 3, second.stderr());
    assert.match(second.stderr(), /already running/);
    assert.ok(second.stderr().includes(etcd) && second.stderr().includes(repoUrl), second.stderr());
    assert.equal(readState()?.pid, u.proc.pid, 'the lock still belongs to the first');

    // 4. A user clones the served repository and scales hello up by one.
    user = await cloneAsUser(repoUrl);
    const helloFile = path.join(user.dir, 'jobs', 'hello.yaml');
    const hello = fs.readFileSync(helloFile, 'utf8');
    assert.match(hello, /^numInstances: 2$/m);
    await merge(user, { 'jobs/hello.yaml': hello.replace(/^numInstances: 2$/m, 'numInstances: 3') }, 'scale hello to 3');
    await waitFor(
      'hello to run 3 healthy instances',
      async () => {
        const job = (await readClusterStatus(s)).jobs.find((j) => j.name === 'hello');
        return job?.desired === 3 && job.healthy === 3;
      },
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    await waitFor('the DNS key of hello-2', async () => (await rawKeys(etcd, '/skydns/local/ozy/hello/')).includes('/skydns/local/ozy/hello/hello-2'), { timeoutMs: 30_000 });
    assert.ok((await containersOfNode()).length > 0);

    // 4b. The README's walk-through, as written, against this ozy up.
    const root = projectRoot();
    const script = walkthroughScript(walkthroughBlock(readReadme(root)), {
      repoUrl,
      bin: path.join(root, 'bin'),
      waits: [
        { after: /git commit -qm "add site"/, until: `ozy status site --json | grep -c '"state": "healthy"' | grep -qx 2`, seconds: 120 },
        { after: /git commit -qam "site: 500"/, until: 'git fetch -q origin && git cat-file -e origin/main:rejections/site.json', seconds: 90 },
        { after: /git commit -qam "site: back to 2"/, until: 'git fetch -q origin && ! git cat-file -e origin/main:rejections/site.json', seconds: 90 },
      ],
    });
    const walkDir = path.join(tmp.dir, 'walkthrough');
    fs.mkdirSync(walkDir);
    const identity = { GIT_AUTHOR_NAME: 'Walk Through', GIT_AUTHOR_EMAIL: 'walk@example.test', GIT_COMMITTER_NAME: 'Walk Through', GIT_COMMITTER_EMAIL: 'walk@example.test' };
    const walk = await run('bash', ['-c', script], { cwd: walkDir, env: { ...process.env, ...identity, OZY_UP_STATE_DIR: stateDir }, maxBuffer: 16 * 1024 * 1024 }).catch((err: { stdout?: string; stderr?: string; message: string }) =>
      assert.fail(`the README walk-through failed: ${err.message}\nstdout:\n${err.stdout ?? ''}\nstderr:\n${err.stderr ?? ''}`),
    );
    assert.match(walk.stdout, /^ok: \d+ valid jobs: .*\bsite\b/m, 'ozy validate accepts the new job');
    assert.match(walk.stdout, /create +site/, 'ozy plan creates it');
    assert.match(walk.stdout, /site-0 .*healthy +healthy/, 'ozy status site shows it healthy');
    assert.match(walk.stdout, /"detail": "[^"]*Job requires [^"]* of memory/, 'the report says why');
    assert.match(walk.stdout, /REPORT\n {2}\(none\)\s*$/, 'the last status shows the report gone');
    // The report's `type` resolves: ozy up points it at its dashboard's copy of docs/errors.md.
    const typeUrl = /"type": "([^"]+)"/.exec(walk.stdout)?.[1] ?? '';
    assert.ok(typeUrl.startsWith(`http://${state.dashboard!.address}/docs/errors.md#`), typeUrl);
    const doc = await httpGet(typeUrl.split('#')[0]!, {});
    assert.equal(doc.status, 200);
    assert.ok(doc.body.includes(` id="${typeUrl.split('#')[1]}"`), 'the anchor exists');
    assert.ok(fs.readFileSync(path.join(walkDir, 'ozy-jobs', 'jobs', 'web.yaml'), 'utf8').includes('ozy/web-service'), 'the example web job is untouched');
    const site = (await readClusterStatus(s)).instances.filter((i) => i.job === 'site');
    assert.deepEqual(site.map((i) => [i.instance, i.state, i.restarts]), [['site-0', 'healthy', 0], ['site-1', 'healthy', 0]], 'site never stopped');

    // 4c. A docker-compose service imported with `ozy import compose`, pushed as written, runs on ozy up and passes its imported check.
    const clone = path.join(walkDir, 'ozy-jobs');
    const composeFile = path.join(walkDir, 'compose.yaml');
    fs.writeFileSync(
      composeFile,
      [
        'services:',
        '  imported:',
        '    image: localhost/ozy-busybox:1',
        `    command: /bin/sh -c 'mkdir -p /srv && echo imported > /srv/index.html && exec /bin/httpd -f -p 8000 -h /srv'`,
        '    healthcheck:',
        '      test: ["CMD-SHELL", "/bin/wget -q -O /dev/null http://127.0.0.1:8000/index.html"]',
        '      interval: 1s',
        '      timeout: 2s',
        '    mem_limit: 16m',
        '    cpus: 0.05',
        '',
      ].join('\n'),
    );
    const imported = await run(process.execPath, [ozyEntry(), 'import', 'compose', composeFile, '-o', clone], { cwd: walkDir });
    assert.match(imported.stdout, /wrote ozy-jobs\/jobs\/imported\.yaml .*everything carried over/s);
    const gitEnv = { ...process.env, ...identity };
    await run('git', ['add', 'jobs/imported.yaml'], { cwd: clone, env: gitEnv });
    await run('git', ['commit', '-qm', 'imported from compose'], { cwd: clone, env: gitEnv });
    await run('git', ['pull', '-q', '--rebase'], { cwd: clone, env: gitEnv });
    await run('git', ['push', '-q'], { cwd: clone, env: gitEnv });
    await waitFor('the imported job healthy', async () => (await readClusterStatus(s)).jobs.find((j) => j.name === 'imported')?.healthy === 1, { timeoutMs: 90_000 });

    // 5. SIGINT: everything it started is stopped, nothing is left.
    await s.close();
    store = undefined;
    const pids = Object.values(state.processes).map((p) => p.pid);
    u.proc.kill('SIGINT');
    const code = await within(u.exit, 90_000);
    assert.equal(code, 0, failed());
    assert.match(u.stdout(), /ozy up: stopped/);
    for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} still runs`);
    assert.deepEqual(await containersOfNode(), []);
    assert.equal(fs.existsSync(socket), false, 'the podman socket is removed');
    assert.equal(readState(), undefined, 'the lock is released');
    assert.equal(await connects(state.git!.port), false, 'the git server is stopped');
    assert.equal(await connects(state.etcd!.clientPort!), false, 'etcd is stopped');
    // The data stays for the next run: the repository has the user's push.
    const { stdout: log } = await run('git', ['--git-dir', state.git!.repoDir, 'log', '--format=%s', 'main']);
    assert.match(log, /scale hello to 3/);
  });
});

describe('ozy up after a crash, with an existing etcd', () => {
  test('a killed ozy up is cleaned up by the next one, which never stops the etcd it did not start', { timeout: 300_000 }, async () => {
    externalEtcd = await startEtcd();
    const dir = path.join(tmp.dir, 'crash');
    const waitRunning = (p: UpProcess) =>
      waitFor('ozy up to be running', () => {
        if (p.proc.exitCode !== null) throw new Error(`ozy up exited: ${p.stderr()}`);
        const st = readState(dir);
        return st !== undefined && st.pid === p.proc.pid && st.phase === 'running' ? st : undefined;
      }, { timeoutMs: 120_000, intervalMs: 200 });

    // 1. An ozy up using the existing etcd is killed: its agent and podman service are orphaned.
    const first = startUp(['--etcd', externalEtcd.endpoint], dir);
    others.push(first);
    const crashed = await waitRunning(first);
    otherStates.push(crashed);
    assert.equal(crashed.etcd?.startedByUp, false);
    assert.deepEqual(Object.keys(crashed.processes).sort(), ['agent ' + node, 'dashboard', 'dns', 'ingress', 'podman']);
    // (The git server lives in the ozy up process: wait until the agent has fetched and started something.)
    await waitFor('a container of the run about to crash', async () => (await containersOfNode()).length > 0, { timeoutMs: 60_000, intervalMs: 300 });
    first.proc.kill('SIGKILL');
    await first.exit;
    const orphans = Object.values(crashed.processes).map((p) => p.pid);
    for (const pid of orphans) assert.equal(alive(pid), true, 'SIGKILL of ozy up leaves its children running');

    // 2. The next ozy up stops the orphans, then runs normally.
    const second = startUp(['--etcd', externalEtcd.endpoint], dir);
    others.push(second);
    const st = await waitRunning(second);
    otherStates.push(st);
    assert.match(second.stdout(), new RegExp(`the previous ozy up \\(pid ${first.proc.pid}\\) died; stopping what it left: agent ${node}, (?:(?:ingress|dns|dashboard), ){3}podman`));
    for (const pid of orphans) assert.equal(alive(pid), false, `orphan ${pid} was stopped`);
    assert.match(second.stdout(), /etcd {8}using {4}http/);

    // 3. Its SIGINT stops what it started, and leaves the etcd it was given running.
    second.proc.kill('SIGINT');
    assert.equal(await within(second.exit, 90_000), 0, second.stderr());
    for (const p of Object.values(st.processes)) assert.equal(alive(p.pid), false);
    assert.deepEqual(await containersOfNode(), []);
    assert.equal(await connects(externalEtcd.clientPort), true, 'the existing etcd still runs');
    assert.ok(!/etcd {8}stopped/.test(second.stdout()));
  });
});

/** The promise's value, or 'timeout' after `ms` (the timer does not keep the test process alive). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function httpGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}
