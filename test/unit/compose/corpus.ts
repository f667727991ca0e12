// Runs the importer's pure core on a fixture of test/fixtures/compose, with
// the same file access the command has (env_file below the fixture's
// directory, the .env beside it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { composeDirReader, readDotenv } from '../../../src/compose/disk';
import { importCompose } from '../../../src/compose/import-compose';
import type { ImportResult } from '../../../src/compose/types';
import type { Container, Job } from '../../../src/render/job-raw.generated';
import { projectRoot } from '../../../src/paths';

export const CORPUS = path.join(projectRoot(), 'test', 'fixtures', 'compose');

export function importFixture(name: string, opts: { pod?: string; env?: Record<string, string> } = {}): ImportResult {
  const file = path.join(CORPUS, name);
  const dotenv = readDotenv(file);
  return importCompose({
    text: fs.readFileSync(file, 'utf8'),
    source: path.basename(file),
    env: opts.env ?? {},
    files: composeDirReader(path.dirname(file)),
    ...(dotenv !== undefined ? { dotenv } : {}),
    ...(opts.pod !== undefined ? { pod: opts.pod } : {}),
  });
}

/** Every compose file of the corpus, relative to it. */
export function corpusFiles(): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(CORPUS, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) out.push(p);
    }
  };
  walk('');
  return out.sort();
}

/** `[kind, path]` of every finding that is not a note. */
export function losses(r: ImportResult): Array<[string, string]> {
  return r.findings.filter((f) => f.kind !== 'note').map((f) => [f.kind, f.path]);
}

export function jobOf(r: ImportResult, name: string): Job {
  const j = r.jobs.find((x) => x.name === name);
  if (!j) throw new Error(`no job ${name} among ${r.jobs.map((x) => x.name).join(', ')}`);
  return j.job;
}

export function containerOf(r: ImportResult, job: string, container = job): Container {
  const c = jobOf(r, job).containers[container];
  if (!c) throw new Error(`job ${job} has no container ${container}`);
  return c;
}
