// bin/ozy starts `ozy agent` with the settings of src/runtime/agent-launch.ts
// and every other command with node's defaults. A stand-in `node` first on
// PATH records what the launcher ran.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { AGENT_ENV, AGENT_NODE_FLAGS, agentEnv } from '../../../src/runtime/agent-launch';
import { projectRoot } from '../../../src/paths';

const NAMES = Object.keys(AGENT_ENV);

function launch(args: string[], env: Record<string, string> = {}): { argv: string[]; env: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ozy-launch-'));
  try {
    const fake = path.join(dir, 'node');
    const shown = NAMES.map((n) => `"\${${n}:-unset}"`).join(' ');
    fs.writeFileSync(fake, `#!/bin/sh\nprintf "%s\\n" ${shown} "$@"\n`, { mode: 0o755 });
    const res = spawnSync(path.join(projectRoot(), 'bin', 'ozy'), args, {
      env: { PATH: `${dir}:/usr/bin:/bin`, ...env },
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    const lines = res.stdout.trimEnd().split('\n');
    return { env: Object.fromEntries(NAMES.map((n, i) => [n, lines[i]!])), argv: lines.slice(NAMES.length) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const entry = (argv: string[]): string => path.resolve(argv.find((a) => a.endsWith('ozy.js'))!);

describe('bin/ozy', () => {
  test('starts an agent with the flags and environment of agent-launch.ts', () => {
    const { argv, env } = launch(['agent', '--node', 'a']);
    assert.deepEqual(argv, [...AGENT_NODE_FLAGS, argv[AGENT_NODE_FLAGS.length]!, 'agent', '--node', 'a']);
    assert.equal(entry(argv), path.join(projectRoot(), 'dist', 'src', 'cli', 'ozy.js'));
    assert.deepEqual(env, AGENT_ENV);
  });

  test("the caller's MALLOC_ARENA_MAX wins", () => {
    assert.equal(launch(['agent'], { MALLOC_ARENA_MAX: '8' }).env.MALLOC_ARENA_MAX, '8');
  });

  test('any other command runs with node defaults', () => {
    const { argv, env } = launch(['ingress', '--listen', ':80']);
    assert.deepEqual(argv.slice(1), ['ingress', '--listen', ':80']);
    assert.ok(argv[0]!.endsWith('ozy.js'));
    for (const n of NAMES) assert.equal(env[n], 'unset', n);
  });
});

describe('agentEnv', () => {
  test('adds the agent settings under what the caller set', () => {
    assert.deepEqual(agentEnv({ PATH: '/bin' }), { ...AGENT_ENV, PATH: '/bin' });
    assert.equal(agentEnv({ MALLOC_ARENA_MAX: '4' }).MALLOC_ARENA_MAX, '4');
  });
});
