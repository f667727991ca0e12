// The cost secrets add to a container start: one age decryption per secret
// variable (runtime/pod.ts reveals them just before the create call). The
// file is made by the real `age` CLI when it is installed (else by our own
// encrypter), decrypted in process N times; the floor is the same
// decryption by the `age` CLI (a process per call), measured in this run.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encryptSecret, SecretIdentity } from '../src/secrets/age';
import { tempDir } from '../test/harness/tmp';
import type { Section } from './lib/figures';
import { percentile } from './lib/stats';

export interface SecretsBenchResult {
  decrypts: number;
  inProcessMs: { p50: number; p99: number; mean: number };
  cliMs: { p50: number; runs: number } | null;
  madeBy: 'age CLI' | 'ozy';
}

export async function runSecretsBench(opts: { decrypts?: number; cliRuns?: number } = {}): Promise<SecretsBenchResult> {
  const n = opts.decrypts ?? 500;
  const tmp = tempDir('ozy-bench-secrets-');
  try {
    const idFile = path.join(tmp.dir, 'id.txt');
    const haveCli = spawnSync('age-keygen', ['--version']).status === 0;
    let file: Uint8Array;
    if (haveCli) {
      execFileSync('age-keygen', ['-o', idFile], { stdio: 'pipe' });
      fs.chmodSync(idFile, 0o600);
      const recipient = execFileSync('age-keygen', ['-y', idFile], { encoding: 'utf8' }).trim();
      file = execFileSync('age', ['-a', '-r', recipient], { input: 'a database password of some length' });
    } else {
      const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
      const key = await generateX25519Identity();
      fs.writeFileSync(idFile, `${key}\n`, { mode: 0o600 });
      file = Buffer.from(await encryptSecret('a database password of some length', [await identityToRecipient(key)]));
    }
    const id = SecretIdentity.load(idFile);
    for (let i = 0; i < 20; i++) await id.decrypt(file); // warm-up (JIT, crypto init)
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await id.decrypt(file);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    let cliMs: SecretsBenchResult['cliMs'] = null;
    if (haveCli) {
      const f = path.join(tmp.dir, 's.age');
      fs.writeFileSync(f, file);
      const runs = opts.cliRuns ?? 30;
      const cli: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        execFileSync('age', ['-d', '-i', idFile, f], { stdio: 'pipe' });
        cli.push(performance.now() - t0);
      }
      cli.sort((a, b) => a - b);
      cliMs = { p50: percentile(cli, 50), runs };
    }
    return {
      decrypts: n,
      inProcessMs: { p50: percentile(times, 50), p99: percentile(times, 99), mean: times.reduce((a, b) => a + b, 0) / n },
      cliMs,
      madeBy: haveCli ? 'age CLI' : 'ozy',
    };
  } finally {
    tmp.cleanup();
  }
}

export function secretsSection(r: SecretsBenchResult, durationMs: number): Section {
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    id: 'secrets',
    title: 'Secrets: decryption per container start',
    figures: [
      {
        id: 'secrets.decryptP50',
        label: `decrypting one secret in the agent (X25519 age file made by the ${r.madeBy}; one per secret variable per container start)`,
        value: round(r.inProcessMs.p50),
        unit: 'ms',
        ...(r.cliMs ? { vs: { kind: 'floor' as const, label: 'the same decryption by the age CLI (a process per call)', value: round(r.cliMs.p50), unit: 'ms', measured: true } } : {}),
        detail: `p99 ${round(r.inProcessMs.p99)} ms, mean ${round(r.inProcessMs.mean)} ms over ${r.decrypts} decryptions${r.cliMs ? `; CLI p50 over ${r.cliMs.runs} runs` : ''}`,
      },
    ],
    notes: [],
    durationMs,
    raw: r,
  };
}
