// The age adapter against the real `age` CLI: files the CLI makes (binary
// and armored) decrypt to exactly their bytes; files we make decrypt with
// the CLI; an identity others can read is refused; a file for another
// identity says so without any of its content. And `ozy secret encrypt`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { main } from '../../../src/cli/main';
import { encryptSecret, SecretIdentity, SecretIdentityError } from '../../../src/secrets/age';
import { tempDir } from '../../harness/tmp';

const tmp = tempDir('ozy-age-');
after(() => tmp.cleanup());

function keygen(name: string): { file: string; recipient: string } {
  const file = path.join(tmp.dir, name);
  execFileSync('age-keygen', ['-o', file], { stdio: 'pipe' });
  fs.chmodSync(file, 0o600);
  return { file, recipient: execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim() };
}

const agent = keygen('agent.txt');
const other = keygen('other.txt');

describe('age adapter', () => {
  test('files made by the age CLI, binary and armored, decrypt to exactly their bytes', async () => {
    const id = SecretIdentity.load(agent.file);
    const value = 'pa55 wörd\nwith a newline\n';
    for (const armor of [false, true]) {
      const out = execFileSync('age', ['-r', agent.recipient, ...(armor ? ['-a'] : [])], { input: value });
      assert.equal(await id.decrypt(out), value, armor ? 'armored' : 'binary');
    }
    assert.deepEqual(await id.recipients(), [agent.recipient]);
  });

  test('files we make decrypt with the CLI, for every recipient', async () => {
    const armored = await encryptSecret('s3cret', [agent.recipient, other.recipient]);
    assert.match(armored, /^-----BEGIN AGE ENCRYPTED FILE-----/);
    const f = path.join(tmp.dir, 'ours.age');
    fs.writeFileSync(f, armored);
    for (const who of [agent, other]) assert.equal(execFileSync('age', ['-d', '-i', who.file, f], { encoding: 'utf8' }), 's3cret');
  });

  test('an identity readable by others is refused; so is a file without a key', () => {
    const loose = path.join(tmp.dir, 'loose.txt');
    fs.copyFileSync(agent.file, loose);
    fs.chmodSync(loose, 0o644);
    assert.throws(() => SecretIdentity.load(loose), (err: Error) => err instanceof SecretIdentityError && /mode 0644 lets others read it; run chmod 600/.test(err.message));
    const empty = path.join(tmp.dir, 'empty.txt');
    fs.writeFileSync(empty, '# nothing\n', { mode: 0o600 });
    assert.throws(() => SecretIdentity.load(empty), /no AGE-SECRET-KEY-1/);
    assert.throws(() => SecretIdentity.load(path.join(tmp.dir, 'absent.txt')), /cannot be read \(ENOENT\)/);
  });

  test('a file for another identity, or garbage: a message without content', async () => {
    const id = SecretIdentity.load(agent.file);
    const forOther = execFileSync('age', ['-r', other.recipient], { input: 'hidden-value' });
    await assert.rejects(id.decrypt(forOther), (err: Error) => /not encrypted to this agent's identity/.test(err.message) && !err.message.includes('hidden-value'));
    await assert.rejects(id.decrypt(Buffer.from('hidden-value')), /not a valid age file/);
  });
});

describe('ozy secret encrypt', () => {
  async function encrypt(dir: string, name: string, stdin: string): Promise<{ code: number; out: string; err: string }> {
    const input = new PassThrough();
    input.end(stdin);
    let out = '';
    let err = '';
    const stdout = new PassThrough().on('data', (d: Buffer) => (out += d.toString()));
    const stderr = new PassThrough().on('data', (d: Buffer) => (err += d.toString()));
    const code = await main(['secret', 'encrypt', name, '--dir', dir], { stdin: input, stdout, stderr, env: {}, cwd: dir });
    return { code, out, err };
  }

  test('writes secrets/NAME.age for the recipients of ozy.yaml, one trailing newline dropped, the value never printed', async () => {
    const repo = path.join(tmp.dir, 'repo');
    fs.mkdirSync(repo);
    fs.writeFileSync(path.join(repo, 'ozy.yaml'), `secrets:\n  recipients: [${agent.recipient}]\n`);
    const r = await encrypt(repo, 'db-password', 'hunter2\n');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /wrote secrets\/db-password\.age for 1 recipient/);
    assert.ok(!r.out.includes('hunter2') && !r.err.includes('hunter2'));
    const plain = execFileSync('age', ['-d', '-i', agent.file, path.join(repo, 'secrets', 'db-password.age')], { encoding: 'utf8' });
    assert.equal(plain, 'hunter2');
  });

  test('no recipients, or nothing on stdin: exit 1 with the reason', async () => {
    const bare = path.join(tmp.dir, 'bare');
    fs.mkdirSync(bare);
    const none = await encrypt(bare, 'x', 'v');
    assert.equal(none.code, 1);
    assert.match(none.err, /ozy\.yaml cannot be read/);
    fs.writeFileSync(path.join(bare, 'ozy.yaml'), `secrets: {recipients: [${agent.recipient}]}\n`);
    const empty = await encrypt(bare, 'x', '');
    assert.equal(empty.code, 1);
    assert.match(empty.err, /nothing on stdin/);
    const badName = await encrypt(bare, '../x', 'v');
    assert.equal(badName.code, 2);
  });
});
