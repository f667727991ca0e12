// The last step of the import: every job is judged by the validator that
// `ozy validate` and the agents use. A job it refuses is not written, and
// the validator's reasons are reported, so the files written always pass.
import { judgeJobDocument } from '../render/judge-job';
import type { FindingList } from './findings';
import type { ImportedJob } from './types';

export function judgeImported(jobs: readonly ImportedJob[], f: FindingList): ImportedJob[] {
  return jobs.filter((j) => {
    const verdict = judgeJobDocument(j.job, { expected: j.name, source: 'the file name' });
    if (verdict.ok) return true;
    const why = verdict.findings.map((x) => x.message).join('; ');
    for (const service of j.services) f.leftOut(['services', service], `not imported: job ${j.name} would not validate: ${why}`);
    return false;
  });
}
