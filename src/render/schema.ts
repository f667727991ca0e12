// The only ajv user: validates raw documents against the JSON Schemas in
// schemas/ and turns ajv's errors into findings a PR author can act on.
// Each schema field may carry `x-expected` (what a valid value looks like);
// it is the wording of the messages.
import { closestName } from './did-you-mean';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import chartRefSchema from '../../schemas/chart-ref.schema.json';
import jobSchema from '../../schemas/job.schema.json';
import settingsSchema from '../../schemas/settings.schema.json';
import type { ProblemType } from '../problems';
import { describeValue, finding, fromPointer, isSecretLocation, type Finding, type Segment } from './findings';

export type SchemaName = 'job' | 'chart-ref' | 'settings';

type SchemaObject = Record<string, unknown>;

const SCHEMAS: Record<SchemaName, SchemaObject> = {
  job: jobSchema as SchemaObject,
  'chart-ref': chartRefSchema as SchemaObject,
  settings: settingsSchema as SchemaObject,
};

let compiled: Map<SchemaName, ValidateFunction> | undefined;

function validator(name: SchemaName): ValidateFunction {
  if (!compiled) {
    // verbose: errors carry the failing schema and data, for the messages.
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, allowUnionTypes: true, discriminator: true });
    ajv.addVocabulary(['x-expected']);
    compiled = new Map((Object.keys(SCHEMAS) as SchemaName[]).map((n) => [n, ajv.compile(SCHEMAS[n])]));
  }
  return compiled.get(name)!;
}

/** The schema document itself (e.g. to read documented defaults). */
export function schemaDocument(name: SchemaName): SchemaObject {
  return SCHEMAS[name];
}

/** Findings for `doc` against schema `name`; empty when it is valid. */
export function validateDocument(name: SchemaName, doc: unknown): Finding[] {
  const validate = validator(name);
  if (validate(doc)) return [];
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    const f = toFinding(name, err);
    if (!f) continue;
    const key = `${f.pointer}\u0000${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

function toFinding(name: SchemaName, err: ErrorObject): Finding | undefined {
  // These only summarize errors that are reported on their own: `propertyNames`
  // through its inner errors (which name the key), `discriminator` through
  // the `enum`/`required` of the tag property, `if` through `then`'s.
  if (err.keyword === 'propertyNames' || err.keyword === 'discriminator' || err.keyword === 'if') return undefined;
  const at: Segment[] = fromPointer(err.instancePath);
  const parent = (err.parentSchema ?? {}) as SchemaObject;
  const root = SCHEMAS[name];
  const expected = typeof parent['x-expected'] === 'string' ? (parent['x-expected'] as string) : undefined;
  const secret = isSecretLocation(at);
  const propertyName = (err as { propertyName?: unknown }).propertyName;

  if (typeof propertyName === 'string') {
    const where = [...at, propertyName];
    return finding(problemTypeFor(name, at), where, `${JSON.stringify(propertyName)} is not a valid name: expected ${expected ?? err.message}`);
  }
  switch (err.keyword) {
    case 'required': {
      const missing = String((err.params as { missingProperty: string }).missingProperty);
      const prop = resolve(propertiesOf(parent)[missing], root);
      const hint = typeof prop?.['x-expected'] === 'string' ? `; expected ${prop['x-expected'] as string}` : '';
      return finding(problemTypeFor(name, at), [...at, missing], `is required but missing${hint}`);
    }
    case 'additionalProperties': {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const props = propertiesOf(parent);
      const allowed = `allowed here: ${Object.keys(props).join(', ')}`;
      // A variant (e.g. an exec health check) names itself by its `type` const.
      const variant = (props.type as SchemaObject | undefined)?.const;
      const meant = closestName(extra, Object.keys(props));
      const hint = meant !== undefined ? `did you mean \`${meant}\`? ` : '';
      const text = typeof variant === 'string' ? `is not used by ${variant} health checks (${hint}${allowed})` : `unknown field; ${hint || 'the format has no such option '}(${allowed})`;
      return finding(problemTypeFor(name, at), [...at, extra], text);
    }
    case 'uniqueItems': {
      const { i, j } = err.params as { i: number; j: number };
      const item = Array.isArray(err.data) ? err.data[i] : undefined;
      return finding(problemTypeFor(name, at), [...at, i], `${describeValue(item)} is listed twice (also at [${j}])`);
    }
    default: {
      const want = expected ?? err.message ?? 'a different value';
      const got = secret ? '' : `, got ${describeGot(err)}`;
      return finding(problemTypeFor(name, at), at, `expected ${want}${got}`);
    }
  }
}

function describeGot(err: ErrorObject): string {
  const data: unknown = err.data;
  if ((err.keyword === 'maxLength' || err.keyword === 'minLength') && typeof data === 'string') {
    return `${data.length} characters`;
  }
  if (err.keyword === 'minProperties' || err.keyword === 'maxProperties') {
    const n = data !== null && typeof data === 'object' ? Object.keys(data).length : 0;
    return `${n} entr${n === 1 ? 'y' : 'ies'}`;
  }
  return describeValue(data);
}

/** Which named problem a schema error at `at` is (the field decides). */
export function problemTypeFor(name: SchemaName, at: readonly Segment[]): ProblemType {
  if (name === 'settings') return 'invalid-settings';
  if (name === 'chart-ref') return 'invalid-chart';
  if (at[0] === 'name' && at.length === 1) return 'invalid-job-name';
  if (at[0] !== 'containers' || at.length < 3) return 'invalid-job';
  switch (at[2]) {
    case 'image':
      return 'invalid-image';
    case 'memory':
      return 'invalid-size';
    case 'cpu':
      return 'invalid-cpu';
    case 'ports':
      return 'invalid-port';
    case 'environment':
      return 'invalid-environment';
    case 'healthcheck':
      return 'invalid-healthcheck';
    case 'volumes':
      return at[4] === 'space' ? 'invalid-size' : 'invalid-volume';
    default:
      return 'invalid-job';
  }
}

function propertiesOf(schema: SchemaObject): Record<string, unknown> {
  const props = schema.properties;
  return props !== null && typeof props === 'object' ? (props as Record<string, unknown>) : {};
}

/** Follows a local `#/definitions/x` reference. */
function resolve(schema: unknown, root: SchemaObject): SchemaObject | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const ref = (schema as SchemaObject).$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema as SchemaObject;
  let node: unknown = root;
  for (const seg of ref.slice(2).split('/')) node = (node as SchemaObject | undefined)?.[seg];
  return node !== null && typeof node === 'object' ? (node as SchemaObject) : undefined;
}
