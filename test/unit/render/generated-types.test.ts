// src/render/job-raw.generated.ts must be what the schemas generate today.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../../src/paths';
import { GENERATED_FILE, generateRawTypes } from '../../../src/render/generate-types';

test('the committed raw types equal a fresh generation from schemas/', async () => {
  const committed = fs.readFileSync(path.join(projectRoot(), GENERATED_FILE), 'utf8');
  const fresh = await generateRawTypes();
  assert.ok(committed === fresh, `${GENERATED_FILE} is stale: run \`node dist/src/render/generate-types.js\` after a build`);
});
