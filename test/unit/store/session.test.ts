// The keepalive loop of a node session, on a fake driver and a manual clock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdUnavailableError, LeaseLostError, type StoreError } from '../../../src/store';
import { LeaseSession } from '../../../src/store/session';
import { ManualClock, fakeDriver, settle } from './fakes';

type Answer = number | StoreError;

function setup(answers: Answer[], ttlSeconds = 3) {
  const clock = new ManualClock();
  const calls: number[] = [];
  let revoked = 0;
  const driver = fakeDriver({
    leaseKeepAliveOnce: async () => {
      calls.push(clock.now());
      const a = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (typeof a !== 'number') throw a;
      return { ttlSeconds: a };
    },
    leaseRevoke: async () => {
      revoked++;
    },
  });
  const session = new LeaseSession(driver, 'n1', '42', ttlSeconds, false, clock.now(), clock);
  const events = { lost: [] as LeaseLostError[], renewed: 0, failed: [] as StoreError[] };
  session.on('lost', (e) => events.lost.push(e));
  session.on('renewed', () => events.renewed++);
  session.on('renewFailed', (e) => events.failed.push(e));
  return { clock, calls, session, events, revoked: () => revoked };
}

const down = () => new EtcdUnavailableError('etcd down');

describe('LeaseSession keepalive', () => {
  test('renews every third of the TTL and records when each renewal was sent', async () => {
    const { clock, calls, session, events } = setup([3]);
    const t0 = clock.now();
    session.start();
    await clock.advance(3_000);
    assert.deepEqual(calls, [t0 + 1_000, t0 + 2_000, t0 + 3_000]);
    assert.equal(events.renewed, 3);
    assert.equal(session.lastRenewedAt(), t0 + 3_000);
    assert.equal(session.mayHaveExpired(), false);
  });

  test('keeps retrying through an outage without declaring the lease lost', async () => {
    const { clock, session, events } = setup([down()]);
    const t0 = clock.now();
    session.start();
    await clock.advance(10_000);
    assert.equal(events.lost.length, 0);
    assert.equal(session.isLost(), false);
    assert.ok(events.failed.length >= 15, `retried ${events.failed.length} times`); // every ≤500 ms
    assert.ok(events.failed.every((e) => e.retryable));
    assert.equal(session.lastRenewedAt(), t0);
    assert.equal(session.mayHaveExpired(), true);
  });

  test('recovers after the outage: renewals resume and the expiry suspicion clears', async () => {
    const { clock, session, events } = setup([down(), down(), down(), 3]);
    session.start();
    await clock.advance(5_000);
    assert.equal(events.failed.length, 3);
    assert.ok(events.renewed >= 1);
    assert.equal(session.mayHaveExpired(), false);
  });

  test("etcd answering TTL 0 makes the session 'lost' once and stops the loop", async () => {
    const { clock, calls, session, events } = setup([3, 0]);
    session.start();
    await clock.advance(10_000);
    assert.equal(calls.length, 2);
    assert.equal(events.lost.length, 1);
    assert.equal(events.lost[0]!.leaseId, '42');
    assert.equal(session.isLost(), true);
    assert.equal(clock.pending(), 0);
    await assert.rejects(session.renewNow(), LeaseLostError);
  });

  test("a 'lease not found' error is a loss too", async () => {
    const { clock, session, events } = setup([new LeaseLostError('42')]);
    session.start();
    await clock.advance(1_000);
    assert.equal(events.lost.length, 1);
    assert.equal(clock.pending(), 0);
  });

  test('release stops renewing without revoking; revoke revokes; neither reports a loss', async () => {
    const a = setup([3]);
    a.session.start();
    await a.session.release();
    await a.clock.advance(5_000);
    assert.equal(a.calls.length, 0);
    assert.equal(a.revoked(), 0);

    const b = setup([3]);
    b.session.start();
    await b.session.revoke();
    await b.clock.advance(5_000);
    assert.equal(b.calls.length, 0);
    assert.equal(b.revoked(), 1);
    assert.equal(a.events.lost.length + b.events.lost.length, 0);
  });

  test('concurrent renewNow calls share one round trip; a throwing listener does not stop the loop', async () => {
    const { clock, calls, session } = setup([3]);
    session.on('renewed', () => {
      throw new Error('listener bug');
    });
    await Promise.all([session.renewNow(), session.renewNow()]);
    assert.equal(calls.length, 1);
    session.start();
    await clock.advance(2_000);
    await settle();
    assert.equal(calls.length, 3);
  });
});
