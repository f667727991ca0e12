// Ingress endpoints recorded with a healthy instance's status (pure).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerSpec, JobSpec } from '../../../src/model/job';
import { ingressEndpoints, ingressPorts } from '../../../src/network/endpoints';
import { hostPortsOf } from '../../../src/runtime/facts';

function spec(ingress: JobSpec['ingress'], ports: ContainerSpec['ports']): JobSpec {
  const app: ContainerSpec = { name: 'app', image: 'x', restart: 'always', environment: [], ports, dependsOn: [], memory: 1, cpu: 1, volumes: [] };
  return { name: 'web', numInstances: 1, containers: [app], ...(ingress ? { ingress } : {}) };
}

describe('ingress endpoints', () => {
  test('the engine-chosen host port of an unpublished ingress port, the job\'s own for a published one', () => {
    const s = spec(
      [{ host: 'a.example.com', path: '/', port: 3000 }, { host: 'b.example.com', path: '/', port: 3000 }, { tcp: 5432, port: 5432 }],
      [{ container: 3000, protocol: 'tcp' }, { host: 15432, container: 5432, protocol: 'tcp' }],
    );
    assert.deepEqual(ingressPorts(s), [3000, 5432]);
    assert.deepEqual(ingressEndpoints(s, '10.1.2.3', { '3000/tcp': 41000, '5432/tcp': 15432 }), {
      '3000': { host: '10.1.2.3', port: 41000 },
      '5432': { host: '10.1.2.3', port: 15432 },
    });
  });

  test('nothing bound yet, or no ingress: no endpoints', () => {
    const s = spec([{ host: 'a.example.com', path: '/', port: 3000 }], [{ container: 3000, protocol: 'tcp' }]);
    assert.equal(ingressEndpoints(s, '10.1.2.3', undefined), undefined);
    assert.equal(ingressEndpoints(spec(undefined, [{ container: 3000, protocol: 'tcp' }]), '10.1.2.3', { '3000/tcp': 4 }), undefined);
  });

  test('the engine\'s NetworkSettings.Ports: the first bound host port of each, unbound ones skipped', () => {
    assert.deepEqual(
      hostPortsOf({ '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '41000' }], '53/udp': null, '80/tcp': [{ HostIp: '', HostPort: '' }] }),
      { '3000/tcp': 41000 },
    );
    assert.equal(hostPortsOf(null), undefined);
  });
});
