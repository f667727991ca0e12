// `ozy dashboard` refuses bad flags before touching etcd, and is listed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../cli/run-cli';

test('ozy --help lists dashboard; its usage names the options', async () => {
  assert.match((await runCli(['--help'], process.cwd())).stdout, /^ {2}dashboard /m);
  const r = await runCli(['dashboard', '--help'], process.cwd());
  assert.equal(r.code, 0);
  for (const flag of ['--etcd', '--listen', '--etcd-prefix', '--etcd-ca', '--etcd-cert', '--etcd-key', 'OZY_ETCD_USERNAME', '127.0.0.1:7080']) assert.ok(r.stdout.includes(flag), flag);
});

test('ozy dashboard: usage errors exit 2 and name the flag', async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /--etcd is required/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', 'nowhere:port'], /--listen "nowhere:port"/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', 'fd:3'], /fd:N is not supported/],
    [['--etcd', 'http://127.0.0.1:1', '--bogus'], /bogus/],
    [['--etcd', 'http://127.0.0.1:1', '--etcd-ca', '/nonexistent/ca.pem'], /--etcd-ca/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['dashboard', ...args], process.cwd());
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});
