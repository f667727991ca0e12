import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRouteTable, matchRoute, normalizeHost, pathMatches, requestPath, type RouteTable } from '../../../src/ingress/route-table';
import { ingressJob, instanceStatus, statusMap } from './fixtures';

function routed(table: RouteTable, host: string | undefined, target: string): string {
  const m = matchRoute(table, host, target);
  return m.kind === 'route' ? `${m.route.job} ${m.route.host}${m.route.path}` : m.kind;
}

describe('route table: matching', () => {
  const shop = ingressJob('shop', [{ host: 'shop.example.com', path: '/', port: 3000 }], ['n1']);
  const api = ingressJob('api', [{ host: 'shop.example.com', path: '/api', port: 8080 }, { host: 'shop.example.com', path: '/api/v2/', port: 8080 }], ['n1']);
  const wild = ingressJob('wild', [{ host: '*.example.com', path: '/', port: 80 }], ['n2']);
  const docs = ingressJob('docs', [{ host: 'docs.example.com', path: '/guide', port: 80 }], ['n2']);
  const table = buildRouteTable([shop, api, wild, docs], new Map());

  test('longest path prefix wins, on / boundaries', () => {
    assert.equal(routed(table, 'shop.example.com', '/'), 'shop shop.example.com/');
    assert.equal(routed(table, 'shop.example.com', '/api'), 'api shop.example.com/api');
    assert.equal(routed(table, 'shop.example.com', '/api/'), 'api shop.example.com/api');
    assert.equal(routed(table, 'shop.example.com', '/api/x?q=1'), 'api shop.example.com/api');
    assert.equal(routed(table, 'shop.example.com', '/apix'), 'shop shop.example.com/');
    assert.equal(routed(table, 'shop.example.com', '/api/v2'), 'api shop.example.com/api', 'a trailing-slash prefix needs the slash');
    assert.equal(routed(table, 'shop.example.com', '/api/v2/items'), 'api shop.example.com/api/v2/');
  });

  test('hosts: case-insensitive, port and trailing dot stripped', () => {
    assert.equal(routed(table, 'SHOP.Example.COM:8080', '/'), 'shop shop.example.com/');
    assert.equal(routed(table, 'shop.example.com.', '/'), 'shop shop.example.com/');
    assert.equal(routed(table, 'shop.example.com', 'http://shop.example.com/api/x'), 'api shop.example.com/api');
  });

  test('a wildcard matches exactly one label', () => {
    assert.equal(routed(table, 'a.example.com', '/x'), 'wild *.example.com/');
    assert.equal(routed(table, 'example.com', '/'), 'unknown-host');
    assert.equal(routed(table, 'a.b.example.com', '/'), 'unknown-host');
  });

  test('an exact host goes first; its paths fall back to the wildcard only when none matches', () => {
    assert.equal(routed(table, 'docs.example.com', '/guide/intro'), 'docs docs.example.com/guide');
    assert.equal(routed(table, 'docs.example.com', '/other'), 'wild *.example.com/');
  });

  test('unknown host, missing Host, and a known host with no matching path', () => {
    assert.equal(routed(table, 'other.org', '/'), 'unknown-host');
    assert.equal(routed(table, undefined, '/'), 'unknown-host');
    const onlyApi = buildRouteTable([api], new Map());
    assert.equal(routed(onlyApi, 'shop.example.com', '/'), 'no-path');
  });

  test('two jobs claiming one host and path: the earlier name wins, the other is a conflict', () => {
    const a = ingressJob('a-shop', [{ host: 'shop.example.com', path: '/', port: 1 }, { tcp: 5432, port: 5432 }], ['n1']);
    const b = ingressJob('b-shop', [{ host: 'shop.example.com', path: '/', port: 2 }, { tcp: 5432, port: 5433 }], ['n1']);
    const t = buildRouteTable([b, a], new Map());
    assert.equal(routed(t, 'shop.example.com', '/'), 'a-shop shop.example.com/');
    assert.equal(t.tcp.get(5432)?.job, 'a-shop');
    assert.deepEqual(t.conflicts, ['job b-shop: shop.example.com/ is job a-shop\'s', 'job b-shop: TCP port 5432 is job a-shop\'s']);
  });

  test('the path defaults to / and hosts are lower-cased; unusable entries are skipped', () => {
    const j = ingressJob('j', [{ host: 'UP.example.com', port: 80 } as never, { host: 'x.example.com', path: 'nope', port: 80 }, { tcp: 0, port: 1 }], ['n1']);
    const t = buildRouteTable([j], new Map());
    assert.equal(routed(t, 'up.example.com', '/anything'), 'j up.example.com/');
    assert.equal(routed(t, 'x.example.com', '/'), 'unknown-host');
    assert.equal(t.tcp.size, 0);
  });
});

describe('route table: backends', () => {
  const web = ingressJob('web', [{ host: 'web.example.com', path: '/', port: 3000 }, { tcp: 7000, port: 7000 }], ['n1', 'n2', 'n3', null]);
  const ep = (port: number) => ({ '3000': { host: '10.0.0.1', port }, '7000': { host: '10.0.0.1', port: port + 1 } });

  test('only healthy instances on the accepted spec, on their placed node, with an endpoint for the port', () => {
    const statuses = statusMap(
      instanceStatus(web, 0, ep(31000)),
      instanceStatus(web, 1, ep(31002), { state: 'unhealthy' }),
      instanceStatus(web, 2, ep(31004), { specHash: 'old' }),
    );
    const t = buildRouteTable([web], statuses);
    const m = matchRoute(t, 'web.example.com', '/');
    assert.equal(m.kind, 'route');
    assert.deepEqual(m.kind === 'route' && m.route.backends, [{ instance: 'web-0', node: 'n1', host: '10.0.0.1', port: 31000, address: '10.0.0.1:31000' }]);
    assert.deepEqual(t.tcp.get(7000)?.backends.map((b) => b.address), ['10.0.0.1:31001']);
  });

  test('a status left on another node (the instance moved) and one without the port are not backends', () => {
    const moved = { ...instanceStatus(web, 0, ep(31000)), node: 'n9' };
    const noPort = instanceStatus(web, 1, { '9999': { host: 'h', port: 1 } });
    const t = buildRouteTable([web], new Map([['n1/web-0', moved], ['n2/web-1', noPort]]));
    const m = matchRoute(t, 'web.example.com', '/');
    assert.ok(m.kind === 'route' && m.route.backends.length === 0, 'known host, no backend: the proxy answers 503');
  });

  test('during a rolling update an instance not yet replaced serves with its pinned version; a daemon instance is named after its node', () => {
    const rolling = {
      ...web,
      instances: [web.instances[0]!, { ...web.instances[1]!, spec: 'old' }, web.instances[2]!, web.instances[3]!],
      versions: { old: { spec: web.spec, commit: 'c0' } },
    };
    const statuses = statusMap(instanceStatus(web, 0, ep(1)), instanceStatus(web, 1, ep(2), { specHash: 'old' }), instanceStatus(web, 2, ep(3), { specHash: 'old' }));
    const m = matchRoute(buildRouteTable([rolling], statuses), 'web.example.com', '/');
    assert.deepEqual(m.kind === 'route' && m.route.backends.map((b) => b.instance), ['web-0', 'web-1'], 'web-2 runs the new spec by its placement: an old status is not it');
    const daemon = { ...web, instances: [{ node: 'n1', since: 't', daemon: 'n1' }] };
    const ds = new Map([['n1/web-n1', { ...instanceStatus(web, 0, ep(5)), instance: 'web-n1' }]]);
    const d = matchRoute(buildRouteTable([daemon], ds), 'web.example.com', '/');
    assert.deepEqual(d.kind === 'route' && d.route.backends.map((b) => b.instance), ['web-n1']);
  });

  test('backends come in ordinal order', () => {
    const statuses = statusMap(instanceStatus(web, 2, ep(3)), instanceStatus(web, 0, ep(1)), instanceStatus(web, 1, ep(2)));
    const m = matchRoute(buildRouteTable([web], statuses), 'web.example.com', '/');
    assert.deepEqual(m.kind === 'route' && m.route.backends.map((b) => b.instance), ['web-0', 'web-1', 'web-2']);
  });
});

describe('route table: helpers', () => {
  test('normalizeHost', () => {
    assert.equal(normalizeHost('A.B:80'), 'a.b');
    assert.equal(normalizeHost('[::1]:8080'), '[::1]');
    assert.equal(normalizeHost(''), undefined);
    assert.equal(normalizeHost(undefined), undefined);
  });
  test('requestPath', () => {
    assert.equal(requestPath('/a/b?c#d'), '/a/b');
    assert.equal(requestPath('http://h:1/x?y'), '/x');
    assert.equal(requestPath('http://h'), '/');
    assert.equal(requestPath('*'), '/');
  });
  test('pathMatches', () => {
    assert.ok(pathMatches('/', '/anything'));
    assert.ok(pathMatches('/api', '/api'));
    assert.ok(pathMatches('/api', '/api/'));
    assert.ok(!pathMatches('/api', '/apix'));
    assert.ok(pathMatches('/api/', '/api/x'));
    assert.ok(!pathMatches('/api/', '/api'));
  });
});
