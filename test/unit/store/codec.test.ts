import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAcceptedJob, decodeDnsRecord, decodeInstanceStatus, decodeNodeCpu, decodeNodeInfo, decodeRejection, dnsRecordProblem } from '../../../src/store/codec';
import { job, nodeInfo, rejection, status } from '../../integration/store/fixtures';

const node = { ...nodeInfo('n1'), agentId: 'a', leaseId: '7', startedAt: '2024-01-01T00:00:00Z' };

function reason<T>(d: { ok: true; value: T } | { ok: false; reason: string }): string | undefined {
  return d.ok ? undefined : d.reason;
}

describe('decoding stored values', () => {
  test('accepts what the store writes', () => {
    assert.deepEqual(decodeNodeInfo(JSON.stringify(node)), { ok: true, value: node });
    assert.ok(decodeAcceptedJob(JSON.stringify(job('web', ['a', null])), 'web').ok);
    assert.ok(decodeRejection(JSON.stringify(rejection('jobs/x.yaml'))).ok);
    assert.ok(decodeInstanceStatus(JSON.stringify(status('n1', 'web-0'))).ok);
    assert.ok(decodeDnsRecord('{"host":"10.0.0.1","port":80,"ttl":30}').ok);
  });

  test('names what is wrong with a corrupt value instead of throwing', () => {
    assert.equal(reason(decodeNodeInfo('{oops')), 'not JSON');
    assert.equal(reason(decodeNodeInfo('[1]')), 'not a JSON object');
    assert.equal(reason(decodeNodeInfo(JSON.stringify({ ...node, capacity: { memory: 1, disk: 'x', cpu: 1 } }))), 'capacity.disk is not a number');
    assert.equal(reason(decodeNodeInfo(JSON.stringify({ ...node, labels: { a: 1 } }))), 'labels is not a map of strings');
    const j = job('web', ['a']);
    assert.equal(reason(decodeAcceptedJob(JSON.stringify({ ...j, instances: [{ node: 3, since: 'x' }] }))), 'instances[0] is not a placement');
    assert.equal(reason(decodeAcceptedJob(JSON.stringify({ ...j, spec: { ...j.spec, numInstances: -1 } }))), 'spec.numInstances is not a count');
    assert.equal(reason(decodeAcceptedJob(JSON.stringify(j), 'other')), 'spec.name "web" does not match the key');
    assert.equal(reason(decodeRejection(JSON.stringify({ ...rejection('r'), problem: {} }))), 'problem.type is not a string');
    assert.equal(reason(decodeInstanceStatus(JSON.stringify({ ...status('n', 'web-0'), state: 'dancing' }))), 'state is not an instance state');
  });

  test('keeps an instance status\'s ingress endpoints and refuses malformed ones', () => {
    const withEndpoints = { ...status('n', 'web-0'), endpoints: { '3000': { host: '10.0.0.5', port: 31000 } } };
    const d = decodeInstanceStatus(JSON.stringify(withEndpoints));
    assert.ok(d.ok);
    assert.deepEqual(d.value.endpoints, { '3000': { host: '10.0.0.5', port: 31000 } });
    assert.equal(reason(decodeInstanceStatus(JSON.stringify({ ...withEndpoints, endpoints: { web: { host: 'h', port: 1 } } }))), 'endpoints key "web" is not a port');
    assert.equal(reason(decodeInstanceStatus(JSON.stringify({ ...withEndpoints, endpoints: { '80': { host: '', port: 1 } } }))), 'endpoints.80.host is not a host');
    assert.equal(reason(decodeInstanceStatus(JSON.stringify({ ...withEndpoints, endpoints: { '80': { host: 'h', port: 0 } } }))), 'endpoints.80.port is not a port');
  });

  test('checks DNS records before writing them', () => {
    assert.equal(dnsRecordProblem({ host: 'h', port: 80, ttl: 30 }), undefined);
    assert.ok(dnsRecordProblem({ host: '', port: 80, ttl: 30 }));
    assert.ok(dnsRecordProblem({ host: 'h', port: 70000, ttl: 30 }));
    assert.ok(dnsRecordProblem({ host: 'h', port: 80, ttl: -1 }));
  });

  test('takes a node\'s CPU record whole or not at all', () => {
    const rec = { sampleMs: 2000, instances: { 'web-0': { job: 'web', spec: 'h1', healthy: true, used: 412.5, limit: 500 } } };
    assert.deepEqual(decodeNodeCpu(JSON.stringify(rec)), { ok: true, value: rec });
    assert.ok(decodeNodeCpu(JSON.stringify({ sampleMs: 2000, instances: {} })).ok);
    const inst = rec.instances['web-0'];
    assert.equal(reason(decodeNodeCpu('nope')), 'not JSON');
    assert.equal(reason(decodeNodeCpu(JSON.stringify({ ...rec, sampleMs: 0 }))), 'sampleMs is not a positive number');
    assert.equal(reason(decodeNodeCpu(JSON.stringify({ ...rec, instances: [] }))), 'instances is not an object');
    assert.equal(reason(decodeNodeCpu(JSON.stringify({ ...rec, instances: { 'web-0': { ...inst, used: -1 } } }))), 'instances.web-0.used is not a non-negative number');
    assert.equal(reason(decodeNodeCpu(JSON.stringify({ ...rec, instances: { 'web-0': { ...inst, limit: '500m' } } }))), 'instances.web-0.limit is not a non-negative number');
    assert.equal(reason(decodeNodeCpu(JSON.stringify({ ...rec, instances: { 'web-0': { ...inst, healthy: 'yes' } } }))), 'instances.web-0.healthy is not a boolean');
    assert.equal(reason(decodeNodeCpu(JSON.stringify({ ...rec, instances: { 'web-0': { ...inst, spec: undefined } } }))), 'instances.web-0.spec is not a string');
  });
});
