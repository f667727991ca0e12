// Parsed YAML must not keep the file's text alive: V8 keeps a long enough
// substring as a slice of its parent, so one scalar held by a rendered spec
// would retain the whole file (src/render/yaml.ts, detachStrings).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { parseYaml } from '../../../src/render/yaml';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

test('scalars kept from 200 parsed files do not retain the files (each with 50 KB of comments)', () => {
  const kept: unknown[] = [];
  const before = heapMb();
  for (let i = 0; i < 200; i++) {
    const text = `# ${'x'.repeat(50_000)}\nname: svc-${i}\ncontainers:\n  - image: localhost/some-image:${i}\n    command: [/bin/httpd, -f, -p, "8080"]\n`;
    const r = parseYaml(text);
    assert.ok(r.ok);
    const doc = r.documents[0] as { containers: Array<{ image: string; command: string[] }> };
    kept.push(doc.containers[0]!.image, doc.containers[0]!.command, doc);
  }
  const grown = heapMb() - before;
  // The texts are 10 MB in all; what is kept is a few KB of strings and objects.
  assert.ok(grown < 2, `the heap grew by ${grown.toFixed(1)} MiB while holding 200 parsed documents`);
  assert.equal((kept[0] as string), 'localhost/some-image:0');
});
