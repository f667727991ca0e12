// Small wrappers over renderTemplate for the template tests.
import assert from 'node:assert/strict';
import { renderTemplate, type Limits, type TemplateError } from '../../../src/render/template';

export interface RenderOpts {
  helpers?: Record<string, string>;
  limits?: Partial<Limits>;
  name?: string;
}

/** Renders and returns the text; fails the test with the errors otherwise. */
export function render(text: string, data: unknown = {}, opts: RenderOpts = {}): string {
  const r = renderTemplate(text, data, opts);
  if (!r.ok) assert.fail(`expected success, got ${JSON.stringify(r.errors)}`);
  return r.text;
}

/** Renders expecting failure; returns the (single) error. */
export function renderError(text: string, data: unknown = {}, opts: RenderOpts = {}): TemplateError {
  const r = renderTemplate(text, data, opts);
  if (r.ok) assert.fail(`expected an error, got output ${JSON.stringify(r.text)}`);
  assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
  return r.errors[0] as TemplateError;
}

/** Data shaped like a chart's root object. */
export function values(v: Record<string, unknown>): { Values: Record<string, unknown> } {
  return { Values: v };
}
