// `ozy import compose`, the pure core. Steps:
//   1. parse with the project's bounded YAML loader; resolve merge keys
//   2. check it is a Compose file (a mapping with `services`)
//   3. interpolate every value with the environment and the `.env` beside it
//   4. top-level keys: volumes declared; the rest reported
//   5. each service → a container (service.ts)
//   6. containers → jobs: one per service, or one pod with --pod (assemble.ts)
//   7. judge each job with the validator `ozy validate` uses; an invalid one is
//      left out with the validator's reasons, so every file written validates
// Only `files.read` (env_file) leaves the core.
import { parseYaml } from '../render/yaml';
import { assemblePod, assembleSeparate } from './assemble';
import { parseEnvFile } from './dotenv';
import type { FileReader } from './environment';
import type { Segment } from '../render/findings';
import { FindingList, isMapping } from './findings';
import { interpolateDocument, type Lookup } from './interpolate';
import { applyMergeKeys } from './merge-keys';
import { mapService, type MappedService } from './service';
import { jobFileText } from './job-file';
import { ComposeError, type ComposeFinding, type ImportedJob, type ImportResult, type JobFile } from './types';
import { judgeImported } from './verdict';

export interface ImportOptions {
  /** The compose file's text. */
  text: string;
  /** How the compose file is named in the job files' headers (e.g. `docker-compose.yml`). */
  source: string;
  /** The environment variables interpolation sees (they win over `.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** The `.env` file beside the compose file, when there is one. */
  dotenv?: string;
  /** Files the compose file names (env_file), relative to its directory. */
  files: FileReader;
  /** All services as containers of one job with this name (a valid job name). */
  pod?: string;
}

const TOP_LEVEL_REASONS: Record<string, string> = {
  networks: 'each pod has its own network namespace; jobs reach each other through DNS (`<job>.ozy.local`, docs/dns.md) and `ozy ingress`',
  secrets: 'Compose secrets are files; the job format injects secrets as environment variables ({name, secret}: `ozy secret encrypt NAME`, docs/secrets.md)',
  configs: 'the job format has no config files: put them in the image, or values in environment',
  include: 'other Compose files are not read: import each of them',
  models: 'the job format has no AI models',
};

export function importCompose(opts: ImportOptions): ImportResult {
  // 1–2
  const parsed = parseYaml(opts.text);
  if (!parsed.ok) {
    const where = parsed.error.line !== undefined ? ` (line ${parsed.error.line})` : '';
    throw new ComposeError(`not a Compose file: ${parsed.error.message}${where}`);
  }
  const docs = parsed.documents.filter((d) => d !== null);
  if (docs.length !== 1) throw new ComposeError(docs.length === 0 ? 'not a Compose file: it is empty' : 'not a Compose file: it holds several YAML documents');
  const root = applyMergeKeys(docs[0]);
  if (!isMapping(root) || !isMapping(root.services) || Object.keys(root.services).length === 0) {
    throw new ComposeError('not a Compose file: expected a mapping with `services:` naming at least one service');
  }
  // 3
  const lookup = environmentLookup(opts.env, opts.dotenv);
  const f = new FindingList();
  const { value, unset, substituted } = interpolateDocument(root, lookup);
  const doc = value as Record<string, unknown> & { services: Record<string, unknown> };
  for (const u of unset) f.note(u.at, `variable ${u.name} is not set: an empty string was used, as Compose does`);
  noteInterpolatedEnvironment(doc.services, substituted, f);
  // 4
  const declaredVolumes = topLevel(doc, f);
  // 5
  const mapped: MappedService[] = [];
  for (const [name, raw] of Object.entries(doc.services)) {
    if (name.startsWith('x-')) continue;
    f.service = name;
    const before = f.items.length;
    const m = mapService(name, raw, { lookup, files: opts.files, declaredVolumes }, f);
    // A service left out needs no notes on how its keys would have been carried.
    if (!m.container) f.items.splice(before, f.items.length - before, ...f.items.slice(before).filter((x) => x.kind !== 'note'));
    mapped.push(m);
    f.service = undefined;
  }
  // 6–7
  const jobs = judgeImported(opts.pod !== undefined ? assemblePod(opts.pod, mapped, f) : assembleSeparate(mapped, f), f);
  const findings = inFileOrder(f.items, mapped.map((m) => m.service));
  return { jobs: jobs.map((j) => withText(j, opts.source, findings)), findings };
}

/** File-level findings first, then each service's in the order of the file (stable within one). */
function inFileOrder(items: readonly ComposeFinding[], services: readonly string[]): ComposeFinding[] {
  const rank = (x: ComposeFinding): number => (x.service === undefined ? -1 : services.indexOf(x.service));
  return items.map((x, i) => ({ x, i })).sort((a, b) => rank(a.x) - rank(b.x) || a.i - b.i).map((e) => e.x);
}

/** Environment values that came from variables may be secrets, and are about to be written into a file for git. */
function noteInterpolatedEnvironment(services: Record<string, unknown>, substituted: ReadonlyArray<readonly Segment[]>, f: FindingList): void {
  const names = new Map<string, string[]>();
  for (const at of substituted) {
    if (at[0] !== 'services' || at[2] !== 'environment' || at.length !== 4) continue;
    const service = String(at[1]);
    const env = isMapping(services[service]) ? (services[service] as Record<string, unknown>).environment : undefined;
    const item = typeof at[3] === 'number' && Array.isArray(env) ? env[at[3]] : undefined;
    const name = typeof at[3] === 'string' ? at[3] : typeof item === 'string' ? item.split('=')[0]! : String(at[3]);
    names.set(service, [...(names.get(service) ?? []), name]);
  }
  for (const [service, list] of names) {
    f.note(['services', service, 'environment'], `${list.join(', ')}: value${list.length === 1 ? '' : 's'} written with variables (from the environment, .env or a default) and now in the job file: if any is a secret, make it {name, secret} with \`ozy secret encrypt NAME\` (docs/secrets.md) before committing`);
  }
}

/** The file's text, read back to make sure it holds exactly the job that was judged. */
function withText(j: ImportedJob, source: string, findings: readonly ComposeFinding[]): JobFile {
  const text = jobFileText(j, source, findings);
  const back = parseYaml(text);
  if (!back.ok || back.documents.length !== 1 || JSON.stringify(back.documents[0]) !== JSON.stringify(j.job)) {
    throw new Error(`internal error: the file written for job ${j.name} does not read back as the job`);
  }
  return { ...j, text };
}

/** Compose's precedence: the shell's environment over `.env` (whose values may use the shell's). */
function environmentLookup(env: ImportOptions['env'], dotenv: string | undefined): Lookup {
  const shell: Lookup = (name) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined);
  if (dotenv === undefined) return shell;
  const parsed = parseEnvFile(dotenv, shell);
  if (!parsed.ok) throw new ComposeError(`.env: ${parsed.error}`);
  const vars = parsed.env.vars;
  return (name) => shell(name) ?? vars.get(name);
}

function topLevel(doc: Record<string, unknown>, f: FindingList): Set<string> {
  const declared = new Set<string>();
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'services' || key.startsWith('x-')) continue;
    if (key === 'version') {
      f.note([key], 'obsolete in the Compose Specification, and ignored (Compose ignores it too)');
    } else if (key === 'name') {
      f.note([key], 'the project name has no counterpart: jobs are named after the services (or --pod NAME)');
    } else if (key === 'volumes') {
      if (!isMapping(value)) continue;
      for (const [name, spec] of Object.entries(value)) {
        declared.add(name);
        if (!isMapping(spec)) continue;
        for (const [k, v] of Object.entries(spec)) {
          if (k.startsWith('x-') || (k === 'driver' && v === 'local') || (k === 'external' && v === false)) continue;
          f.leftOut([key, name, k], k === 'external'
            ? 'an existing volume\'s data is not imported: each instance starts with an empty persistent volume'
            : 'volumes are directories on the node\'s disk; the job format has no drivers, options, names or labels for them');
        }
      }
    } else if (TOP_LEVEL_REASONS[key] !== undefined) {
      if (!(isMapping(value) && Object.keys(value).length === 0) && value !== null) f.leftOut([key], TOP_LEVEL_REASONS[key]);
    } else {
      f.leftOut([key], 'not a top-level key of the Compose Specification');
    }
  }
  return declared;
}
