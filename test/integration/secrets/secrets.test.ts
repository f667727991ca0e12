// Secrets end to end: two agent processes with --secrets-identity, real
// etcd, podman and git. A secret encrypted with the real `age` CLI reaches
// the container's environment (the container writes its SHA-256, never the
// value, to a shared volume); the plaintext is nowhere else: not in any etcd
// key or value, any agent log line (debug level), any report, the output of
// plan/status/render, or any file under the agents' data dirs; plain
// environment values are not in that output either. Changing the secret
// file rolls the job; a missing secret and one encrypted to another identity
// get a secret-unavailable report while the running version stays; an
// identity others can read is refused at start.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { merge, readJsonIfExists, shellJob, startClusterWithAgents, type TestCluster } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';
import { tempDir } from '../../harness/tmp';
import { runCli } from '../../unit/cli/run-cli';
import { sharedVolumePath } from '../../../src/runtime/volumes';

const PLAINTEXT = 'S3cr3t-plaintext-7f2c91';
const NEXT_PLAINTEXT = 'S3cr3t-rotated-44ab0e';
const PLAIN_VALUE = 'plain-env-value-c0ffee';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

const keys = tempDir('ozy-secrets-keys-');

function keygen(name: string, mode = 0o600): { file: string; recipient: string } {
  const file = path.join(keys.dir, name);
  execFileSync('age-keygen', ['-o', file], { stdio: 'pipe' });
  fs.chmodSync(file, mode);
  return { file, recipient: execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim() };
}

/** Armored, as the CLI makes it with -a. */
function ageEncrypt(value: string, recipient: string): string {
  return execFileSync('age', ['-a', '-r', recipient], { input: value, encoding: 'utf8' });
}

function vaultJob(secret = 'db-password'): string {
  const script = "trap 'exit 0' TERM; printf %s \"$DB_PASSWORD\" | /bin/sha256sum > /shared/seen.tmp && /bin/mv /shared/seen.tmp /shared/seen; /bin/sleep 3600 & wait";
  return shellJob({
    name: 'vault',
    script,
    memory: '16M',
    cpu: '10m',
    top: ['numInstances: 1', 'update: {minHealthy: 1s}', 'stopGrace: 1s'],
    container: ['environment:', `  - {name: DB_PASSWORD, secret: ${secret}}`, `  - {name: MODE, value: ${PLAIN_VALUE}}`, 'volumes:', '  - {type: shared, path: /shared, space: 1M}'],
  });
}

describe('secrets end to end (2 agents on podman, the age CLI)', () => {
  let c: TestCluster;
  const agentKey = keygen('agent.txt');
  const strangerKey = keygen('stranger.txt');
  let seenFile: string;

  before(async () => {
    c = await startClusterWithAgents([], {});
    for (const name of ['a', 'b']) await c.startAgent({ name, memory: '256M', extraArgs: ['--secrets-identity', agentKey.file] });
    await c.waitForNodes(2);
    seenFile = path.join(sharedVolumePath(path.join(path.dirname(c.agents[0]!.dataDir), 'shared'), 'vault', '/shared'), 'seen');
  });
  after(async () => {
    await c?.stop();
    keys.cleanup();
  });

  /** The hash the container last wrote, once it is `want`. */
  const containerSaw = (want: string) =>
    waitFor(`the container to see the value with hash ${want.slice(0, 12)}`, () => fs.existsSync(seenFile) && fs.readFileSync(seenFile, 'utf8').split(' ')[0] === want, { timeoutMs: 90_000, intervalMs: 200 });

  test('the container sees the decrypted value; nothing else ever holds it', async () => {
    await merge(
      c.user,
      {
        'ozy.yaml': `secrets:\n  recipients: [${agentKey.recipient}]\n`,
        'secrets/db-password.age': ageEncrypt(PLAINTEXT, agentKey.recipient),
        'jobs/vault.yaml': vaultJob(),
      },
      'vault with a secret',
    );
    await containerSaw(sha(PLAINTEXT));

    const leaks: string[] = [];
    const scan = (where: string, text: string, needles: string[]): void => {
      for (const n of needles) if (text.includes(n)) leaks.push(`${where} holds ${n === PLAINTEXT ? 'the secret' : 'a plain environment value'}`);
    };
    // Every etcd key and value.
    const etcd = new Etcd3({ hosts: c.etcd.endpoint });
    try {
      const all = await etcd.getAll().strings();
      assert.ok(Object.keys(all).some((k) => k.endsWith('/jobs/vault')), 'the job is in etcd');
      for (const [k, v] of Object.entries(all)) scan(`etcd ${k}`, `${k}\n${v}`, [PLAINTEXT]);
    } finally {
      etcd.close();
    }
    // Every agent log line (debug level): neither the secret nor a plain value.
    for (const a of c.agents) scan(`the log of ${a.node}`, a.logs(), [PLAINTEXT, PLAIN_VALUE]);
    // Every file under the agents' data dirs (the repository clone included).
    for (const a of c.agents) for (const f of filesUnder(a.dataDir)) scan(f, fs.readFileSync(f).toString('latin1'), [PLAINTEXT]);
    // The CLI's output: plan, status and render, human and JSON.
    await c.user.pull();
    for (const args of [
      ['plan', c.user.dir, '--etcd', c.etcd.endpoint],
      ['plan', c.user.dir, '--etcd', c.etcd.endpoint, '--json'],
      ['status', '--etcd', c.etcd.endpoint],
      ['status', '--etcd', c.etcd.endpoint, '--json'],
      ['render', c.user.dir],
      ['render', c.user.dir, '--json'],
    ]) {
      const r = await runCli(args, process.cwd());
      assert.ok(r.code === 0 || r.code === 2, `ozy ${args.join(' ')}: ${r.stderr}`);
      scan(`ozy ${args[0]} ${args.slice(-1)[0]}`, r.stdout + r.stderr, [PLAINTEXT, PLAIN_VALUE]);
    }
    const plan = await runCli(['plan', c.user.dir, '--etcd', c.etcd.endpoint], process.cwd());
    assert.match(plan.stdout, /unchanged\s+vault/, 'the CLI binds the secret as the agents do: same pod hash, nothing to change');
    assert.deepEqual(leaks, []);
  });

  test('changing the secret file rolls the job to the new value', async () => {
    const before = (await c.store.snapshot()).jobs.get('vault')!.specHash;
    await merge(c.user, { 'secrets/db-password.age': ageEncrypt(NEXT_PLAINTEXT, agentKey.recipient) }, 'rotate the secret');
    await containerSaw(sha(NEXT_PLAINTEXT));
    assert.notEqual((await c.store.snapshot()).jobs.get('vault')!.specHash, before);
  });

  test('a missing secret and one for another identity: secret-unavailable, the running version stays', async () => {
    const running = (await c.store.snapshot()).jobs.get('vault')!.specHash;
    await merge(c.user, { 'jobs/vault.yaml': vaultJob('absent') }, 'vault: a secret that does not exist');
    const missing = await waitFor('rejections/vault.json', async () => {
      await c.user.pull();
      const r = readJsonIfExists(`${c.user.dir}/rejections/vault.json`) as { type: string; detail: string } | undefined;
      return r?.type.endsWith('#secret-unavailable') && r.detail.includes('"absent"') ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });
    assert.match(missing.detail, /has no file secrets\/absent\.age/);

    await merge(c.user, { 'jobs/vault.yaml': vaultJob('stranger'), 'secrets/stranger.age': ageEncrypt(PLAINTEXT, strangerKey.recipient) }, 'vault: a secret for someone else');
    const stranger = await waitFor('the report to name the stranger secret', async () => {
      await c.user.pull();
      const r = readJsonIfExists(`${c.user.dir}/rejections/vault.json`) as { detail: string } | undefined;
      return r?.detail.includes('secrets/stranger.age cannot be decrypted') ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 300 });
    assert.match(stranger.detail, /not encrypted to this agent's identity/);
    assert.ok(!JSON.stringify(stranger).includes(PLAINTEXT));
    assert.equal((await c.store.snapshot()).jobs.get('vault')!.specHash, running, 'the accepted version is untouched');
    assert.equal(fs.readFileSync(seenFile, 'utf8').split(' ')[0], sha(NEXT_PLAINTEXT), 'and its container still runs with its value');
  });

  test('an identity others can read: the agent refuses to start', async () => {
    const loose = keygen('loose.txt', 0o644);
    await assert.rejects(c.startAgent({ name: 'loose', memory: '64M', extraArgs: ['--secrets-identity', loose.file] }), /mode 0644 lets others read it/);
  });
});

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}
