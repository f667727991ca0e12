// `ozy ingress` and `ozy dns` refuse bad flags before touching etcd.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './run-cli';

test('ozy --help lists ingress and dns', async () => {
  const r = await runCli(['--help'], process.cwd());
  assert.match(r.stdout, /^ {2}ingress /m);
  assert.match(r.stdout, /^ {2}dns /m);
});

test('ozy ingress: usage errors exit 2 and name the flag', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--listen', ':8080'], /--etcd is required/],
    [['--etcd', 'http://127.0.0.1:1'], /--listen is required/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', 'nowhere:port'], /--listen "nowhere:port"/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', ':8080', '--tcp-ip', 'any'], /--tcp-ip "any" is not an IP address/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', ':8080', '--backend-timeout', 'soon'], /--backend-timeout/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', ':8080', '--bogus'], /bogus/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', ':8080', '--workers', '0'], /--workers "0" is not a count/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', 'fd:3', '--workers', '2'], /fd:N works with one worker only/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['ingress', ...args], process.cwd());
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});

test('ozy dns: usage errors exit 2 and name the flag', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--listen', ':5353'], /--etcd is required/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', 'fd:3'], /fd:N is not supported/],
    [['--etcd', 'http://127.0.0.1:1', '--listen', ':5353', '--zone', 'bad_zone!'], /--zone "bad_zone!" is not a DNS name/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['dns', ...args], process.cwd());
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});
