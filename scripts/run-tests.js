#!/usr/bin/env node
// Runs the compiled test files with node's built-in test runner.
// `node scripts/run-tests.js [unit|integration|faults] [filter...]`
// --test-force-exit: a leaked handle in one file must not hang the run.
// Integration and fault files run one at a time (--test-concurrency=1)
// because they start real etcd / podman / git servers and the CI machine
// has two cores. Unit files start no etcd, podman or git server and wait on
// conditions, not on durations, so they run two at a time: each file is its
// own node process, and process start-up is most of a unit file's time
// (OZY_UNIT_CONCURRENCY overrides the 2).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// OZY_DIST lets several builds coexist (e.g. dist-render while developing).
const root = path.join(__dirname, '..', process.env.OZY_DIST || 'dist', 'test');
const [suite, ...filters] = process.argv.slice(2);
const suites = suite ? [suite] : ['unit', 'integration'];
const unitConcurrency = Number(process.env.OZY_UNIT_CONCURRENCY) || 2;

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

const runs = suites
  .map((s) => ({
    suite: s,
    files: walk(path.join(root, s))
      .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
      .sort(),
  }))
  .filter((r) => r.files.length > 0);
if (runs.length === 0) { console.error('no test files matched'); process.exit(1); }
// Every suite runs even when an earlier one failed (as when they shared one
// invocation); the exit status is the first failure's.
let status = 0;
for (const r of runs) {
  const concurrency = r.suite === 'unit' ? unitConcurrency : 1;
  const res = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-force-exit', '--test-reporter=spec', ...r.files], { stdio: 'inherit' });
  const code = res.status === null ? 1 : res.status;
  if (status === 0) status = code;
}
process.exit(status);
