import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadAgentConfig } from '../../../src/config';
import { defaultShare, planAgents, type AgentPlanInput } from '../../../src/up/agents';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function input(over: Partial<AgentPlanInput> = {}): AgentPlanInput {
  return {
    count: 3,
    nodePrefix: 'node',
    stateDir: '/state',
    repoUrl: 'http://127.0.0.1:2381/jobs.git',
    branch: 'main',
    etcd: ['http://127.0.0.1:2379'],
    dockerSocket: '/state/podman.sock',
    poll: '1s',
    machine: { memory: 24 * GiB, cpu: 2000, disk: 100 * GiB },
    ...over,
  };
}

describe('planning the agents of ozy up', () => {
  test('names node-1..N, zones a/b/c in turn, own data dirs and logs', () => {
    const plans = planAgents(input({ count: 4 }));
    assert.deepEqual(plans.map((p) => p.node), ['node-1', 'node-2', 'node-3', 'node-4']);
    assert.deepEqual(plans.map((p) => p.zone), ['a', 'b', 'c', 'a']);
    assert.deepEqual(plans.map((p) => p.dataDir), ['/state/agents/node-1', '/state/agents/node-2', '/state/agents/node-3', '/state/agents/node-4']);
    assert.equal(plans[1]!.logFile, '/state/logs/node-2.log');
  });

  test('the machine is shared: half the memory and disk, all CPUs, split between agents', () => {
    const share = defaultShare({ memory: 24 * GiB, cpu: 2000, disk: 100 * GiB }, 3);
    assert.equal(share.memory, 4 * GiB);
    assert.equal(share.cpu, 666);
    assert.ok(share.disk <= (100 * GiB) / 6 && share.disk > (100 * GiB) / 6 - MiB);
    const total = planAgents(input()).reduce((s, p) => s + p.capacity.memory, 0);
    assert.ok(total <= 12 * GiB);
  });

  test('per-agent flags override the share', () => {
    const [p] = planAgents(input({ count: 1, perAgent: { memory: 512 * MiB, cpu: 250 } }));
    assert.equal(p!.capacity.memory, 512 * MiB);
    assert.equal(p!.capacity.cpu, 250);
  });

  test('the arguments are what `ozy agent` parses into the planned node', () => {
    const plans = planAgents(input({ count: 2, leaseTtl: '4s', perAgent: { memory: 300 * MiB + 1 } }));
    const p = plans[1]!;
    assert.equal(p.args[0], 'agent');
    const cfg = loadAgentConfig(p.args.slice(1), {});
    assert.equal(cfg.node, 'node-2');
    assert.equal(cfg.zone, 'b');
    assert.equal(cfg.repo, 'http://127.0.0.1:2381/jobs.git');
    assert.deepEqual(cfg.etcd, ['http://127.0.0.1:2379']);
    assert.equal(cfg.dockerSocket, '/state/podman.sock');
    assert.equal(cfg.address, '127.0.0.1');
    assert.equal(cfg.publishIp, '127.0.0.1');
    assert.equal(cfg.memory, p.capacity.memory);
    assert.equal(cfg.cpu, p.capacity.cpu);
    assert.equal(cfg.disk, p.capacity.disk);
    assert.equal(cfg.pollMs, 1000);
    assert.equal(cfg.leaseTtlSeconds, 4);
    assert.equal(cfg.dataDir, '/state/agents/node-2');
    assert.equal(cfg.sharedDir, '/state/agents/shared');
  });
});
