// Watch clients with etcd users: when one watch's token is refused, every
// watch on that client is told (so all of them move, not only the one that
// noticed), new watches get a fresh client, and the old one is closed once
// the last watch let go of it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RenewableWatchClients } from '../../../src/store/watch-clients';

class FakeClient {
  closed = false;
  constructor(readonly id: number) {}
  close(): void {
    assert.equal(this.closed, false, `client ${this.id} closed twice`);
    this.closed = true;
  }
}

function pool() {
  let n = 0;
  const made: FakeClient[] = [];
  const clients = new RenewableWatchClients(() => {
    const c = new FakeClient(++n);
    made.push(c);
    return c;
  });
  return { clients, made };
}

const refused = new Error('etcdserver: invalid auth token');

describe('RenewableWatchClients', () => {
  test('watches share one client until it is retired', () => {
    const { clients, made } = pool();
    assert.equal(clients.acquire(() => undefined).client, clients.acquire(() => undefined).client);
    assert.equal(made.length, 1);
  });

  test('retiring tells every holder; the client closes when the last one released it', () => {
    const { clients } = pool();
    const told: string[] = [];
    const a = clients.acquire((r) => told.push(`a ${r.message}`));
    const b = clients.acquire(() => told.push('b'));
    clients.retire(a.client, refused);
    assert.deepEqual(told, ['a etcdserver: invalid auth token', 'b']);
    const fresh = clients.acquire(() => undefined);
    assert.notEqual(fresh.client, a.client);
    a.release();
    a.release();
    assert.equal(a.client.closed, false, 'b still holds it');
    b.release();
    assert.equal(a.client.closed, true);
    assert.equal(fresh.client.closed, false);
    assert.equal(clients.openClients(), 1);
  });

  test('holders that move at once (release, acquire anew) end up on one fresh client', () => {
    const { clients, made } = pool();
    const holds = [0, 1, 2].map(() => {
      const h: { lease?: ReturnType<typeof clients.acquire> } = {};
      const take = () => (h.lease = clients.acquire(() => {
        h.lease!.release();
        take();
      }));
      take();
      return h;
    });
    clients.retire(made[0]!, refused);
    assert.equal(made.length, 2);
    assert.equal(made[0]!.closed, true);
    assert.ok(holds.every((h) => h.lease!.client === made[1]));
  });

  test('an idle current client stays open; retired, it closes at once; retiring an old one is harmless', () => {
    const { clients } = pool();
    const a = clients.acquire(() => undefined);
    a.release();
    assert.equal(a.client.closed, false);
    clients.retire(a.client, refused);
    assert.equal(a.client.closed, true);
    clients.retire(a.client, refused);
    assert.equal(clients.openClients(), 0);
  });

  test('close() closes every client, retired or current', () => {
    const { clients, made } = pool();
    const a = clients.acquire(() => undefined);
    clients.retire(a.client, refused);
    clients.acquire(() => undefined);
    clients.close();
    assert.deepEqual(made.map((c) => c.closed), [true, true]);
  });
});
