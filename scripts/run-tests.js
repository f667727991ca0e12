#!/usr/bin/env node
// Runs the compiled test files with node's built-in test runner.
// `node scripts/run-tests.js [unit|integration|faults] [filter...]`
// --test-force-exit: a leaked handle in one file must not hang the run.
// Integration and fault files are run one at a time (--test-concurrency=1)
// because they start real etcd / podman / git servers and time what they
// see on a two-core machine; unit files (pure logic, loopback at most) run
// two at a time.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// OZY_DIST lets several builds coexist (e.g. dist-render while developing).
const root = path.join(__dirname, '..', process.env.OZY_DIST || 'dist', 'test');
const [suite, ...filters] = process.argv.slice(2);
const suites = suite ? [suite] : ['unit', 'integration'];

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

const bySuite = suites.map((s) => ({
  suite: s,
  files: walk(path.join(root, s)).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort(),
})).filter((s) => s.files.length > 0);
if (bySuite.length === 0) { console.error('no test files matched'); process.exit(1); }
let failed = false;
for (const { suite: s, files } of bySuite) {
  const concurrency = s === 'unit' ? 2 : 1;
  const res = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-force-exit', '--test-reporter=spec', ...files], { stdio: 'inherit' });
  if (res.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
