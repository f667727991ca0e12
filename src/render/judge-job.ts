// One job document → a normalized spec, or the findings that stop it.
// Steps: schema → normalize (units, defaults) → semantic checks → start order.
import type { JobSpec } from '../model/job';
import { orderContainers, semanticChecks } from './checks';
import { finding, type Finding } from './findings';
import type { Job as JobRaw } from './job-raw.generated';
import { isValidJobName } from './job-name';
import { normalizeJob } from './normalize';
import { validateDocument } from './schema';

export interface NameRule {
  /** The name the job must have (a job file's base name, a chart's release name). */
  expected: string;
  /** Completes "expected "web" (…)": where the expectation comes from. */
  source: string;
  /** Chart releases may also name jobs `<expected>-<suffix>`. */
  allowSuffix?: boolean;
}

export type JobVerdict = { ok: true; spec: JobSpec } | { ok: false; findings: Finding[] };

export function judgeJobDocument(doc: unknown, nameRule?: NameRule): JobVerdict {
  const nameFindings = nameRule ? checkName(doc, nameRule) : [];
  const schemaFindings = validateDocument('job', doc);
  if (schemaFindings.length > 0) return { ok: false, findings: [...nameFindings, ...schemaFindings] };
  const { spec, findings } = normalizeJob(doc as JobRaw);
  const all = [...nameFindings, ...findings, ...semanticChecks(spec)];
  if (all.length > 0) return { ok: false, findings: all };
  return { ok: true, spec: { ...spec, containers: orderContainers(spec.containers) } };
}

function checkName(doc: unknown, rule: NameRule): Finding[] {
  const name = (doc as { name?: unknown } | null)?.name;
  // An invalid or missing name is the schema's to report.
  if (typeof name !== 'string' || !isValidJobName(name)) return [];
  if (name === rule.expected || (rule.allowSuffix && name.startsWith(`${rule.expected}-`))) return [];
  const want = rule.allowSuffix
    ? `${JSON.stringify(rule.expected)} or a name starting with "${rule.expected}-"`
    : JSON.stringify(rule.expected);
  return [finding('job-name-mismatch', ['name'], `expected ${want} (${rule.source}), got ${JSON.stringify(name)}`)];
}
