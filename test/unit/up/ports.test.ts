import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UpError } from '../../../src/up/errors';
import { choosePorts, DEFAULT_PORTS, isPortFree, portsFromBase } from '../../../src/up/ports';
import * as net from 'node:net';

function fakes(taken: number[]) {
  let next = 50000;
  return {
    probe: async (p: number) => !taken.includes(p),
    pickFree: async () => next++,
  };
}

describe('choosing ports', () => {
  test('the well-known defaults when they are free', async () => {
    const f = fakes([]);
    assert.deepEqual(await choosePorts(['etcdClient', 'etcdPeer', 'git', 'ingress', 'dns', 'dashboard'], {}, f.probe, f.pickFree), DEFAULT_PORTS);
  });

  test("the previous run's ports come first, so the URLs a user copied keep working", async () => {
    const f = fakes([]);
    const got = await choosePorts(['etcdClient', 'etcdPeer', 'git'], { previous: { etcdClient: 40001, etcdPeer: 40002, git: 40003 } }, f.probe, f.pickFree);
    assert.deepEqual(got, { etcdClient: 40001, etcdPeer: 40002, git: 40003 });
  });

  test('a taken port falls back to the default, then to a free port', async () => {
    const f = fakes([40001, 2379, 2381]);
    const got = await choosePorts(['etcdClient', 'etcdPeer', 'git'], { previous: { etcdClient: 40001 } }, f.probe, f.pickFree);
    assert.deepEqual(got, { etcdClient: 50000, etcdPeer: 2380, git: 50001 });
  });

  test('only the roles asked for (e.g. git alone with an existing etcd)', async () => {
    const f = fakes([]);
    assert.deepEqual(await choosePorts(['git'], {}, f.probe, f.pickFree), { git: 2381 });
  });

  test('anyFree ignores defaults and previous ports', async () => {
    const f = fakes([]);
    const got = await choosePorts(['etcdClient', 'git'], { anyFree: true, previous: { git: 40003 } }, f.probe, f.pickFree);
    assert.deepEqual(got, { etcdClient: 50000, git: 50001 });
  });

  test('never the same port twice', async () => {
    let calls = 0;
    const pickFree = async () => (calls++ < 2 ? 50000 : 50001);
    const got = await choosePorts(['etcdClient', 'git'], { anyFree: true }, async () => true, pickFree);
    assert.notEqual(got.etcdClient, got.git);
  });

  test('--port-base is exact: a taken port is an error that names it', async () => {
    const f = fakes([3001]);
    assert.deepEqual(portsFromBase(3000), { etcdClient: 3000, etcdPeer: 3001, git: 3002, ingress: 3003, dns: 3004, dashboard: 3005 });
    await assert.rejects(
      choosePorts(['etcdClient', 'etcdPeer', 'git'], { fixed: portsFromBase(3000) }, f.probe, f.pickFree),
      (err: unknown) => err instanceof UpError && err.code === 'UP_PORT_TAKEN' && /3001/.test(err.message),
    );
  });

  test('isPortFree sees a listening socket', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    assert.equal(await isPortFree(port), false);
    await new Promise<void>((r) => srv.close(() => r()));
    assert.equal(await isPortFree(port), true);
  });
});
