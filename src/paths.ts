// Locations inside the installed project (schemas, examples, charts).
import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

/** The project root: the nearest ancestor with Ozymandias' package.json. */
export function projectRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      const name = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name;
      if (name === 'ozymandias') return (cached = dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the Ozymandias project root');
    dir = parent;
  }
}

/** `dist/src/cli/ozy.js` (or its equivalent in another build directory). */
export function ozyEntry(): string {
  return path.join(__dirname, 'cli', 'ozy.js');
}
