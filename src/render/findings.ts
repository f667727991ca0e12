// A finding is one thing wrong with one field of one document: a problem
// type, a JSON pointer into the YAML document, and a message for the PR
// author. Findings of one document become one problem (see problem-details).
import type { ProblemType } from '../problems';

export interface Finding {
  type: ProblemType;
  /** RFC 6901 JSON pointer into the YAML document; '' is the whole document. */
  pointer: string;
  /** Starts with the field's dotted path: `containers.app.memory: expected …`. */
  message: string;
}

export type Segment = string | number;

export function toPointer(segments: readonly Segment[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `/containers/app/ports/0` → `containers.app.ports[0]`, as users think of the field; '' for the document. */
export function fieldPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    const str = String(s);
    if (typeof s === 'number' || /^[0-9]+$/.test(str)) out += `[${str}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(str)) out += out === '' ? str : `.${str}`;
    else out += `[${JSON.stringify(str)}]`;
  }
  return out;
}

/** A finding whose message starts with the field's path (nothing for the whole document). */
export function finding(type: ProblemType, segments: readonly Segment[], text: string): Finding {
  const field = fieldPath(segments);
  return { type, pointer: toPointer(segments), message: field === '' ? text : `${field}: ${text}` };
}

/**
 * Environment values may be secrets: nothing under a container's
 * `environment` is ever quoted back in a message, except a list entry's
 * `name` (a variable name is not a value).
 */
export function isSecretLocation(segments: readonly Segment[]): boolean {
  if (segments[0] !== 'containers' || segments[2] !== 'environment') return false;
  return !(segments.length === 5 && segments[4] === 'name');
}

/** A short rendering of a user's value for "got …" in messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}
