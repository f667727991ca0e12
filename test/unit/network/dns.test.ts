import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobSpec } from '../../../src/model/job';
import { dnsKey, dnsRecordFor } from '../../../src/network/dns';

function spec(ports: Array<{ host?: number; container: number }>): JobSpec {
  return {
    name: 'web',
    numInstances: 1,
    containers: [
      { name: 'app', image: 'x', restart: 'always', environment: [], ports: ports.map((p) => ({ ...p, protocol: 'tcp' as const })), dependsOn: [], memory: 1, cpu: 1, volumes: [] },
    ],
  };
}

describe('dns', () => {
  test('key follows the CoreDNS etcd layout (zone labels reversed)', () => {
    assert.equal(dnsKey('ozy.local', 'web', 'web-1'), '/skydns/local/ozy/web/web-1');
    assert.equal(dnsKey('svc.example.com.', 'db', 'db-0'), '/skydns/com/example/svc/db/db-0');
  });
  test('a published port is reached at the node address', () => {
    assert.deepEqual(dnsRecordFor(spec([{ host: 8080, container: 80 }]), '10.0.0.5', '10.88.0.3'), { host: '10.0.0.5', port: 8080, ttl: 5 });
  });
  test('without published ports the pod IP and first container port are used', () => {
    assert.deepEqual(dnsRecordFor(spec([{ container: 5432 }]), '10.0.0.5', '10.88.0.3'), { host: '10.88.0.3', port: 5432, ttl: 5 });
    assert.equal(dnsRecordFor(spec([]), '10.0.0.5', undefined), undefined);
  });
});
