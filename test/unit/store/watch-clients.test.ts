// Watch clients with etcd users: a retired client (its token refused) gets
// no new watches and is closed once its last watch left it.
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

describe('RenewableWatchClients', () => {
  test('watches share one client until it is retired', () => {
    const { clients, made } = pool();
    const a = clients.acquire();
    const b = clients.acquire();
    assert.equal(a, b);
    assert.equal(made.length, 1);
  });

  test('a retired client serves no new watch and closes when its last watch leaves', () => {
    const { clients } = pool();
    const a = clients.acquire();
    clients.acquire();
    clients.retire(a);
    const fresh = clients.acquire();
    assert.notEqual(fresh, a);
    clients.release(a);
    assert.equal(a.closed, false, 'one watch still on it');
    clients.release(a);
    assert.equal(a.closed, true);
    assert.equal(fresh.closed, false);
    assert.equal(clients.openClients(), 1);
  });

  test('retiring an idle client closes it at once; retiring an old one twice is harmless', () => {
    const { clients } = pool();
    const a = clients.acquire();
    clients.release(a);
    assert.equal(a.closed, false, 'the current client stays open while idle');
    clients.retire(a);
    assert.equal(a.closed, true);
    clients.retire(a);
    assert.equal(clients.openClients(), 0);
  });

  test('close() closes every client, retired or current', () => {
    const { clients, made } = pool();
    const a = clients.acquire();
    clients.retire(a);
    clients.acquire();
    clients.close();
    assert.deepEqual(made.map((c) => c.closed), [true, true]);
  });
});
