// Compose `environment` (map or `KEY=VALUE` list) and `env_file` → the job
// format's environment map. As in Compose, `environment` wins over
// `env_file`, later env files win over earlier ones, and a variable given by
// name only takes its value from the environment the import runs in (and
// is left unset when it is not there). Values never appear in findings.
import type { Segment } from '../render/findings';
import { composeBool } from './compose-units';
import { parseEnvFile } from './dotenv';
import { FindingList, isMapping } from './findings';
import type { Lookup } from './interpolate';

/** What the importer may read besides the compose file: files it names, relative to its directory. */
export interface FileReader {
  /** The file's text, or why not: `missing` when it does not exist. */
  read(relativePath: string): { ok: true; text: string } | { ok: false; missing: boolean; why: string };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRETS_HINT = 'if any of them is a secret, make it {name, secret} with `ozy secret encrypt NAME` (docs/secrets.md) before committing';

export function mapEnvironment(
  service: Record<string, unknown>,
  at: Segment[],
  lookup: Lookup,
  files: FileReader,
  f: FindingList,
): Record<string, string> {
  const env = new Map<string, string>();
  if (service.env_file !== undefined && service.env_file !== null) readEnvFiles(service.env_file, [...at, 'env_file'], env, lookup, files, f);
  const raw = service.environment;
  const fromShell: string[] = [];
  const set = (name: string, value: unknown, where: Segment[]): void => {
    if (!ENV_NAME.test(name)) {
      f.leftOut(where, `${JSON.stringify(name)} is not a variable name the job format accepts (letters, digits and '_', not starting with a digit)`);
      return;
    }
    if (value === null || value === undefined) {
      const v = lookup(name);
      if (v === undefined) {
        env.delete(name);
        f.note(where, `${name} has no value here and is not set in the environment: left unset, as Compose does`);
        return;
      }
      fromShell.push(name);
      env.set(name, v);
      return;
    }
    if (typeof value === 'object') {
      f.leftOut(where, 'expected a string, number or boolean value');
      return;
    }
    env.set(name, String(value));
  };
  if (isMapping(raw)) {
    for (const [name, value] of Object.entries(raw)) set(name, value, [...at, 'environment', name]);
  } else if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      if (typeof item !== 'string') {
        f.leftOut([...at, 'environment', i], 'expected KEY=VALUE or KEY');
        return;
      }
      const eq = item.indexOf('=');
      set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? null : item.slice(eq + 1), [...at, 'environment', i]);
    });
  } else if (raw !== undefined && raw !== null) {
    f.leftOut([...at, 'environment'], 'expected a map or a list of KEY=VALUE');
  }
  if (fromShell.length > 0) {
    f.note([...at, 'environment'], `${fromShell.join(', ')} taken from the environment of this import and written into the job file: ${SECRETS_HINT}`);
  }
  return Object.fromEntries(env);
}

function readEnvFiles(spec: unknown, at: Segment[], env: Map<string, string>, lookup: Lookup, files: FileReader, f: FindingList): void {
  const entries = typeof spec === 'string' || isMapping(spec) ? [spec] : Array.isArray(spec) ? spec : undefined;
  if (!entries) {
    f.leftOut(at, 'expected a path, a list of paths, or {path, required, format}');
    return;
  }
  entries.forEach((entry, i) => {
    const where = Array.isArray(spec) ? [...at, i] : at;
    const path = typeof entry === 'string' ? entry : isMapping(entry) && typeof entry.path === 'string' ? entry.path : undefined;
    if (path === undefined) {
      f.leftOut(where, 'expected a path or {path, required, format}');
      return;
    }
    const required = isMapping(entry) ? composeBool(entry.required) ?? true : true;
    const raw = isMapping(entry) && entry.format === 'raw';
    if (isMapping(entry) && entry.format !== undefined && entry.format !== 'raw') {
      f.leftOut([...where, 'format'], `format ${JSON.stringify(entry.format)}: only Compose's own and raw are read`);
      return;
    }
    const read = files.read(path);
    if (!read.ok) {
      if (read.missing && !required) return;
      f.leftOut(where, `${path}: ${read.why}`);
      return;
    }
    const parsed = parseEnvFile(read.text, lookup, { raw });
    if (!parsed.ok) {
      f.leftOut(where, `${path}: ${parsed.error}`);
      return;
    }
    const names: string[] = [];
    for (const [name, value] of parsed.env.vars) {
      if (!ENV_NAME.test(name)) {
        f.leftOut(where, `${path}: ${JSON.stringify(name)} is not a variable name the job format accepts`);
        continue;
      }
      env.set(name, value);
      names.push(name);
    }
    if (names.length > 0) f.note(where, `${names.length} variable${names.length === 1 ? '' : 's'} from ${path} (${names.join(', ')}) written into the job file: ${SECRETS_HINT}`);
  });
}
