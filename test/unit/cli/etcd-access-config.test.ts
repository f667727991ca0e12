// --etcd-ca / --etcd-cert / --etcd-key and OZY_ETCD_USERNAME / _PASSWORD:
// the same for `ozy agent` and every CLI command that talks to etcd. Files
// are read at start; a bad one is an error naming the flag (or variable);
// the password and the key never reach what is logged.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { etcdConnection } from '../../../src/cli/etcd-options';
import { loadAgentConfig, loggableConfig } from '../../../src/config';
import { loadEtcdAccess } from '../../../src/etcd-access-config';
import { tempDir } from '../../harness/tmp';
import { runCli } from './run-cli';

const tmp = tempDir('ozy-access-config-');
const file = (name: string, text: string): string => {
  const p = path.join(tmp.dir, name);
  fs.writeFileSync(p, text);
  return p;
};
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
const cert = file('cert.pem', '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n');
const key = file('key.pem', '-----BEGIN PRIVATE KEY-----\nsecret-key-bytes\n-----END PRIVATE KEY-----\n');
const notPem = file('junk.txt', 'hello\n');
const https = ['https://127.0.0.1:2379'];

after(() => tmp.cleanup());

describe('loadEtcdAccess', () => {
  test('reads the files from the flags, else from OZY_ETCD_CA/CERT/KEY; flags win', () => {
    const a = loadEtcdAccess(https, { 'etcd-ca': ca }, { OZY_ETCD_CA: notPem, OZY_ETCD_CERT: cert, OZY_ETCD_KEY: key });
    assert.equal(a.tls?.ca?.toString(), fs.readFileSync(ca, 'utf8'));
    assert.equal(a.tls?.cert?.toString(), fs.readFileSync(cert, 'utf8'));
    assert.deepEqual(a.files, { ca, cert, key });
  });
  test('an unreadable file names the flag or the variable that gave it', () => {
    assert.throws(() => loadEtcdAccess(https, { 'etcd-ca': '/nonexistent/ca.pem' }, {}), /^ConfigError: --etcd-ca: cannot read \/nonexistent\/ca.pem \(ENOENT\)$/);
    assert.throws(() => loadEtcdAccess(https, {}, { OZY_ETCD_KEY: tmp.dir, OZY_ETCD_CERT: cert }), /OZY_ETCD_KEY: cannot read .* \(EISDIR\)/);
    assert.throws(() => loadEtcdAccess(https, { 'etcd-cert': notPem }, {}), /--etcd-cert: .*junk.txt is not a PEM file/);
  });
  test('combinations that cannot work', () => {
    assert.throws(() => loadEtcdAccess(['http://127.0.0.1:2379'], { 'etcd-ca': ca }, {}), /need https:\/\/ etcd endpoints/);
    assert.throws(() => loadEtcdAccess(https, { 'etcd-cert': cert }, {}), /--etcd-cert and --etcd-key go together/);
    assert.throws(() => loadEtcdAccess(https, {}, { OZY_ETCD_PASSWORD: 'pw' }), /OZY_ETCD_PASSWORD is set but OZY_ETCD_USERNAME is not/);
    assert.throws(() => loadEtcdAccess(https, {}, { OZY_ETCD_USERNAME: 'ozy' }), /OZY_ETCD_PASSWORD is needed/);
  });
  test('the user comes from the environment only; none by default', () => {
    assert.deepEqual(loadEtcdAccess(https, {}, { OZY_ETCD_USERNAME: 'ozy', OZY_ETCD_PASSWORD: 'pw' }).auth, { username: 'ozy', password: 'pw' });
    assert.deepEqual(loadEtcdAccess(https, {}, {}), { files: {} });
  });
});

describe('CLI commands and the agent share them', () => {
  test('etcdConnection: store options, or the problem in one line', () => {
    const c = etcdConnection({ etcd: https[0], 'etcd-ca': ca }, { OZY_ETCD_USERNAME: 'ozy', OZY_ETCD_PASSWORD: 'pw' });
    assert.ok(!('problem' in c));
    assert.deepEqual([c.endpoints, c.prefix, c.auth?.username, c.tls?.ca !== undefined], [https, '/ozy', 'ozy', true]);
    assert.deepEqual(etcdConnection({ etcd: https[0], 'etcd-ca': '/nope' }, {}), { problem: '--etcd-ca: cannot read /nope (ENOENT)' });
    assert.deepEqual(etcdConnection({}, {}), { problem: '--etcd is required' });
  });

  test('every command that talks to etcd takes the flags and says so in its help', async () => {
    for (const cmd of ['agent', 'plan', 'status', 'runs', 'ingress', 'dns']) {
      const r = await runCli([cmd, '--help'], tmp.dir);
      assert.equal(r.code, 0);
      for (const f of ['--etcd-ca', '--etcd-cert', '--etcd-key', 'OZY_ETCD_USERNAME', 'OZY_ETCD_PASSWORD']) assert.ok(r.stdout.includes(f), `ozy ${cmd} --help lacks ${f}`);
    }
  });

  test('a bad file makes the command fail before connecting, naming the flag', async () => {
    const r = await runCli(['status', '--etcd', https[0]!, '--etcd-ca', '/nonexistent/ca.pem'], tmp.dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ozy status: --etcd-ca: cannot read \/nonexistent\/ca.pem \(ENOENT\)/);
  });
});

describe('agent config', () => {
  const base = ['--node', 'n1', '--repo', 'http://127.0.0.1:1/jobs.git', '--memory', '1G', '--disk', '1G', '--cpus', '1', '--data-dir', '/tmp/ozy-config-test'];
  test('flags and variables reach the config; logging it shows paths and the user, not the password or key', () => {
    const cfg = loadAgentConfig([...base, '--etcd', https[0]!, '--etcd-ca', ca, '--etcd-cert', cert, '--etcd-key', key], { OZY_ETCD_USERNAME: 'ozy', OZY_ETCD_PASSWORD: 'hunter2' });
    assert.equal(cfg.etcdAccess.auth?.password, 'hunter2');
    assert.equal(cfg.etcdAccess.tls?.key?.toString(), fs.readFileSync(key, 'utf8'));
    const logged = JSON.stringify(loggableConfig(cfg));
    assert.ok(!logged.includes('hunter2'), logged);
    assert.ok(!logged.includes('secret-key-bytes'), logged);
    assert.deepEqual(loggableConfig(cfg).etcdAccess, { ca, cert, key, username: 'ozy', password: '***' });
  });
  test('a bad file is a config error naming the flag', () => {
    assert.throws(() => loadAgentConfig([...base, '--etcd', https[0]!, '--etcd-key', '/nope/key.pem', '--etcd-cert', cert], {}), /--etcd-key: cannot read \/nope\/key.pem/);
    assert.throws(() => loadAgentConfig([...base, '--etcd-ca', ca], {}), /need https:\/\/ etcd endpoints, got http:\/\/127.0.0.1:2379/);
  });
});
