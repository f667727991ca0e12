// The flags of this feature refuse bad values before touching etcd, and
// `ozy logs` is listed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../cli/run-cli';

test('ozy --help lists logs; ozy logs --help shows the token and the exit codes', async () => {
  const top = await runCli(['--help'], process.cwd());
  assert.match(top.stdout, /^ {2}logs /m);
  const help = await runCli(['logs', '--help'], process.cwd());
  assert.equal(help.code, 0);
  assert.match(help.stdout, /OZY_API_TOKEN/);
  assert.match(help.stdout, /2 usage/);
});

test('ozy logs: usage errors exit 2', async () => {
  for (const args of [[], ['a-0', 'b-0'], ['a-0', '--tail', 'many'], ['a-0', '--bogus']]) {
    const r = await runCli(['logs', ...args], process.cwd());
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^ozy logs: /);
  }
});

test('ozy ingress --http: a bad address is a usage error', async () => {
  const r = await runCli(['ingress', '--etcd', 'http://127.0.0.1:1', '--listen', ':8080', '--http', 'somewhere'], process.cwd());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--http "somewhere"/);
});

test('ozy agent --help documents --http and OZY_API_TOKEN', async () => {
  const r = await runCli(['agent', '--help'], process.cwd());
  assert.match(r.stdout, /--http ADDR/);
  assert.match(r.stdout, /OZY_API_TOKEN/);
});
