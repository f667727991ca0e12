// `ozy secret encrypt NAME [--dir DIR]`: the value on stdin (one trailing
// newline dropped, as `echo` adds one) encrypted with age to the recipients
// of DIR/ozy.yaml (`secrets: {recipients: [age1…]}`), written armored to
// DIR/secrets/NAME.age. The value is never printed, and is held only in
// this process's memory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseYaml } from '../../render/yaml';
import { judgeSettings } from '../../render/settings';
import { encryptSecret } from '../../secrets/age';
import { secretPath } from '../../secrets/paths';
import type { Command, CommandIo } from '../command';

const USAGE = `Usage: ozy secret encrypt NAME [--dir DIR]

Reads a secret's value on stdin and writes DIR/secrets/NAME.age, encrypted
with age to the recipients listed in DIR/ozy.yaml:

  secrets:
    recipients: [age1…]      # each agent's public key (age-keygen -y identity.txt)

One trailing newline of the value is dropped. A job uses it as
  environment: [{name: DB_PASSWORD, secret: NAME}]
Agents decrypt it with --secrets-identity FILE. The value never reaches etcd,
logs, reports or ozy output.

Options:
  --dir DIR   the job repository checkout (default: the current directory)

Exit status: 0 written, 1 no recipients or nothing on stdin, 2 usage error.
`;

const NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]*$/;

export const command: Command = {
  summary: 'encrypt a secret (value on stdin) to the repository\'s age recipients',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    let name: string;
    let dir: string;
    try {
      const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { dir: { type: 'string' } } });
      if (positionals[0] !== 'encrypt' || positionals.length !== 2) throw new Error('expected: encrypt NAME');
      name = positionals[1]!;
      if (!NAME.test(name) || name.length > 100) throw new Error(`"${name}" is not a secret name: letters, digits, '-', '_' and '.', starting with a letter or digit`);
      dir = path.resolve(io.cwd, values.dir ?? '.');
    } catch (err) {
      io.stderr.write(`ozy secret: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
      return 2;
    }
    const recipients = readRecipients(dir);
    if (typeof recipients === 'string') {
      io.stderr.write(`ozy secret: ${recipients}\n`);
      return 1;
    }
    const value = dropOneNewline(await readAll(io));
    if (value.length === 0) {
      io.stderr.write('ozy secret: nothing on stdin: pipe the value in, e.g. `printf %s "$VALUE" | ozy secret encrypt NAME`\n');
      return 1;
    }
    const file = path.join(dir, secretPath(name));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, await encryptSecret(value, recipients));
    io.stdout.write(`wrote ${secretPath(name)} for ${recipients.length} recipient${recipients.length === 1 ? '' : 's'}; use it as {name: …, secret: ${name}}\n`);
    return 0;
  },
};

/** The recipients of DIR/ozy.yaml, or why there are none. */
function readRecipients(dir: string): string[] | string {
  const file = path.join(dir, 'ozy.yaml');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return `${file} cannot be read: list the recipients there as secrets: {recipients: [age1…]}`;
  }
  const parsed = parseYaml(text);
  if (!parsed.ok) return `${file}: ${parsed.error.message}`;
  const verdict = judgeSettings(parsed.documents[0] ?? null);
  if (!verdict.ok) return `${file}: ${verdict.findings.map((f) => f.message).join('; ')}`;
  if (verdict.settings.secretRecipients.length === 0) return `${file} lists no recipients: add secrets: {recipients: [age1…]}`;
  return verdict.settings.secretRecipients;
}

async function readAll(io: CommandIo): Promise<string> {
  if (!io.stdin) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function dropOneNewline(v: string): string {
  return v.endsWith('\r\n') ? v.slice(0, -2) : v.endsWith('\n') ? v.slice(0, -1) : v;
}
