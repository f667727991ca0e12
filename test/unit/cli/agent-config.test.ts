// Agent flags added for ingress and DNS: --container-dns (and its OZY_ variable).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadAgentConfig } from '../../../src/config';

const base = ['--node', 'n1', '--repo', 'http://127.0.0.1:1/jobs.git', '--memory', '1G', '--disk', '1G', '--cpus', '1', '--data-dir', '/tmp/ozy-config-test'];

describe('agent config: --container-dns', () => {
  test('absent by default: containers use the engine\'s resolver', () => {
    assert.equal(loadAgentConfig(base, {}).containerDns, undefined);
  });
  test('from the flag or OZY_CONTAINER_DNS, IPv4 or IPv6', () => {
    assert.equal(loadAgentConfig([...base, '--container-dns', '10.88.0.1'], {}).containerDns, '10.88.0.1');
    assert.equal(loadAgentConfig(base, { OZY_CONTAINER_DNS: 'fd00::53' }).containerDns, 'fd00::53');
  });
  test('anything but an IP address is refused, naming the flag', () => {
    assert.throws(() => loadAgentConfig([...base, '--container-dns', 'dns.example.com'], {}), /--container-dns: expected an IP address/);
  });
});
