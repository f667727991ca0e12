// The README's "Walk-through, in short" as a script a test can run against
// a real `ozy up`: the fenced block, unchanged but for the clone URL and
// the PATH line (the test's own), with waits inserted after the steps a
// user would wait on (a person reads the comments; a script polls, with a
// deadline). So the walk-through cannot rot: a renamed flag, an example it
// overwrites, a job that never becomes healthy, an undo that reverts the
// wrong commit all fail the test.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const README_CLONE_URL = 'http://127.0.0.1:2381/jobs.git';

/** The commands of the README's walk-through block, as written. */
export function walkthroughBlock(readme: string): string {
  const section = readme.slice(readme.indexOf('## Walk-through, in short'));
  const m = /```sh\n([\s\S]*?)\n```/.exec(section);
  if (!m) throw new Error('README: no ```sh block under "Walk-through, in short"');
  return m[1]!;
}

/** After a line matching `after`, a condition polled until true (seconds). */
export interface Wait {
  after: RegExp;
  until: string;
  seconds: number;
}

export function walkthroughScript(block: string, o: { repoUrl: string; bin: string; waits: readonly Wait[] }): string {
  if (!block.includes(README_CLONE_URL)) throw new Error(`README: the walk-through no longer clones ${README_CLONE_URL}`);
  const lines = block.replace(README_CLONE_URL, o.repoUrl).split('\n');
  const out = [
    'set -euo pipefail',
    // Polls a condition with a deadline, as a person would re-run a command.
    'wait_until() { local deadline=$((SECONDS + $1)); shift; until eval "$1"; do if (( SECONDS >= deadline )); then echo "timed out waiting for: $1" >&2; return 1; fi; sleep 0.5; done; }',
  ];
  const used = new Set<Wait>();
  for (const line of lines) {
    out.push(/^export PATH="\$PWD\/bin:\$PATH"/.test(line) ? `export PATH=${JSON.stringify(o.bin)}:"$PATH"` : line);
    for (const w of o.waits) {
      if (!used.has(w) && w.after.test(line)) {
        used.add(w);
        out.push(`wait_until ${w.seconds} ${shellQuote(w.until)}`);
      }
    }
  }
  const missing = o.waits.filter((w) => !used.has(w));
  if (missing.length > 0) throw new Error(`README: the walk-through has no line matching ${missing.map((w) => String(w.after)).join(', ')}`);
  return `${out.join('\n')}\n`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function readReadme(root: string): string {
  return fs.readFileSync(path.join(root, 'README.md'), 'utf8');
}

/** The files the walk-through writes with `cat > FILE <<'EOF'`: path → content. */
export function heredocFiles(block: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^cat > (\S+) <<'EOF'\n([\s\S]*?)\nEOF$/gm;
  for (let m = re.exec(block); m; m = re.exec(block)) out.set(m[1]!, `${m[2]!}\n`);
  return out;
}
