import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusPublisher } from '../../../src/agent/instance-publisher';
import type { InstanceState, InstanceStatus } from '../../../src/model/cluster';
import { FakeSink, silentLog } from './fake-node';

function status(state: InstanceState, message?: string): InstanceStatus {
  return { instance: 'web-0', job: 'web', node: 'n1', specHash: 'h', state, restarts: 0, containers: {}, updatedAt: new Date().toISOString(), ...(message ? { message } : {}) };
}
const KEY = '/skydns/local/ozy/web/web-0';

describe('StatusPublisher', () => {
  test('writes every state transition in order; a newer status of the same state replaces a queued one', async () => {
    const sink = new FakeSink();
    const p = new StatusPublisher(sink, 'web-0', KEY, silentLog);
    p.setStatus(status('pending'));
    p.setStatus(status('pulling', 'a'));
    p.setStatus(status('pulling', 'b'));
    p.setStatus(status('starting'));
    assert.equal(await p.flush(), true);
    assert.deepEqual(sink.history.get('web-0'), ['pending', 'pulling', 'starting']);
    assert.equal(sink.status.get('web-0')?.state, 'starting');
  });

  test('the same status with only a newer timestamp is not written again', async () => {
    const sink = new FakeSink();
    let puts = 0;
    const put = sink.putStatus.bind(sink);
    sink.putStatus = async (s) => {
      puts++;
      await put(s);
    };
    const p = new StatusPublisher(sink, 'web-0', KEY, silentLog);
    p.setStatus(status('healthy'));
    await p.flush();
    p.setStatus({ ...status('healthy'), updatedAt: '2030-01-01T00:00:00Z' });
    assert.equal(p.dirty, false);
    await p.flush();
    assert.equal(puts, 1);
  });

  test('DNS: delete before the status, put after it; unknown leaves the key alone; retire deletes both', async () => {
    const sink = new FakeSink();
    const p = new StatusPublisher(sink, 'web-0', KEY, silentLog);
    p.setStatus(status('starting'));
    await p.flush();
    assert.deepEqual(sink.dnsOps, [], 'unknown: untouched');
    p.setStatus(status('healthy'));
    p.setDns({ kind: 'present', record: { host: 'h', port: 1, ttl: 5 } });
    await p.flush();
    assert.deepEqual(sink.dns.get(KEY), { host: 'h', port: 1, ttl: 5 });
    p.retire();
    assert.equal(await p.flush(), true);
    assert.deepEqual(sink.dnsOps, [`put ${KEY}`, `delete ${KEY}`]);
    assert.equal(sink.status.size, 0);
  });

  test('failures are kept and retried; an outage keeps only the latest transitions', async () => {
    const sink = new FakeSink();
    const p = new StatusPublisher(sink, 'web-0', KEY, silentLog);
    sink.failing = true;
    const states: InstanceState[] = ['pending', 'starting', 'healthy', 'unhealthy', 'starting', 'healthy', 'exited', 'starting', 'healthy', 'unhealthy'];
    for (const s of states) p.setStatus(status(s));
    assert.equal(await p.flush(), false);
    assert.equal(p.dirty, true);
    sink.failing = false;
    assert.equal(await p.flush(), true);
    assert.deepEqual(sink.history.get('web-0'), states.slice(-8));
  });
});
