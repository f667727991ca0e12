// Running with `--report-branch ozy-reports` against a repository whose
// main is protected (an `update` hook refuses any push to main that carries
// an agent's commit): the agents need write access to their reports branch
// only. A report lands there, main never gets an agent commit, and an agent
// that tries main anyway is refused (so the protection is real).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jobYaml, merge, startClusterWithAgents, type TestCluster } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';
import { execFileSync } from 'node:child_process';

const PROTECT_MAIN = `#!/bin/sh
# Only humans merge into main: a push carrying an agent's commit is refused.
ref="$1"; old="$2"; new="$3"
if [ "$ref" = refs/heads/main ] && git log --format=%ae "$old..$new" 2>/dev/null | grep -q '^ozy-agent@'; then
  echo "main is protected: agents push to their reports branch" >&2
  exit 1
fi
exit 0
`;

describe('reports on their own branch, main protected', () => {
  let c: TestCluster;

  before(async () => {
    c = await startClusterWithAgents([], {});
    fs.writeFileSync(path.join(c.git.root, 'jobs', 'hooks', 'update'), PROTECT_MAIN, { mode: 0o755 });
    await c.startAgent({ name: 'a', memory: '256M', extraArgs: ['--report-branch', 'ozy-reports'] });
    await c.waitForNodes(1);
  });
  after(async () => {
    await c?.stop();
  });

  test('the report is pushed to ozy-reports; main has only human commits; the job that fits runs', async () => {
    await merge(c.user, { 'jobs/ok.yaml': jobYaml('ok', { memory: '16M', cpu: '10m' }), 'jobs/huge.yaml': jobYaml('huge', { memory: '100G' }) }, 'one that fits, one that does not');
    const report = await waitFor('rejections/huge.json on ozy-reports', () => c.user.readRemoteFile('ozy-reports', 'rejections/huge.json'), { timeoutMs: 60_000, intervalMs: 300 });
    assert.match(JSON.parse(report).type as string, /#insufficient-memory$/);
    assert.equal(await c.user.readRemoteFile('main', 'rejections/huge.json'), null);
    const authors = execFileSync('git', ['-C', path.join(c.git.root, 'jobs'), 'log', '--format=%ae', 'main'], { encoding: 'utf8' }).trim().split('\n');
    assert.ok(authors.every((a) => !a.startsWith('ozy-agent@')), `main's authors: ${authors.join(', ')}`);
    await waitFor('ok placed', async () => (await c.store.snapshot()).jobs.has('ok'), { timeoutMs: 30_000 });
  });

  test('an agent that pushes its reports to main is refused by the hook', async () => {
    const b = await c.startAgent({ name: 'b', memory: '64M' });
    // b pushes reports only if it decides a round: make it the poller by stopping a.
    await c.agents[0]!.stop();
    await merge(c.user, { 'jobs/huge2.yaml': jobYaml('huge2', { memory: '100G' }) }, 'another that does not fit');
    await waitFor('b to fail pushing to main', () => b.logs().includes('pushing reports failed') && /main is protected|pre-receive|update hook|declined/i.test(b.logs()), { timeoutMs: 60_000, intervalMs: 300 });
    assert.equal(await c.user.readRemoteFile('main', 'rejections/huge2.json'), null);
  });
});
