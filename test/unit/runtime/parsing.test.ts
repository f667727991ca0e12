// Pure helpers of the runtime: image references, registry credentials,
// the pull progress stream, container facts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatImageRef, parseImageRef } from '../../../src/runtime/image-ref';
import { authFor, normalizeRegistry, parseRegistryAuth } from '../../../src/runtime/registry-auth';
import { LineSplitter, parseProgressLine } from '../../../src/runtime/progress';
import { compareEngineTimes, cpuMillicores, engineTime, normalizeState } from '../../../src/runtime/facts';
import { framesOf, splitStreams } from '../../../src/runtime/log-frames';
import { translateEngineError } from '../../../src/runtime/engine';
import {
  ContainerHasDependentsError,
  ContainerNameConflictError,
  ContainerNotFoundError,
  EngineRequestError,
  EngineUnavailableError,
  ImageNotFoundError,
  RegistryAuthConfigError,
} from '../../../src/runtime/errors';

describe('parseImageRef', () => {
  test('always yields an explicit tag (an empty tag would pull every tag)', () => {
    assert.deepEqual(parseImageRef('nginx'), { registry: 'docker.io', repository: 'nginx', tagOrDigest: 'latest' });
    assert.deepEqual(parseImageRef('library/nginx:1.25'), { registry: 'docker.io', repository: 'library/nginx', tagOrDigest: '1.25' });
  });

  test('a registry port is not a tag', () => {
    assert.deepEqual(parseImageRef('127.0.0.1:5000/app'), { registry: '127.0.0.1:5000', repository: '127.0.0.1:5000/app', tagOrDigest: 'latest' });
    assert.deepEqual(parseImageRef('127.0.0.1:5000/team/app:2'), { registry: '127.0.0.1:5000', repository: '127.0.0.1:5000/team/app', tagOrDigest: '2' });
    assert.equal(parseImageRef('localhost/ozy-busybox:1').registry, 'localhost');
  });

  test('digests win over tags', () => {
    const d = 'sha256:' + 'a'.repeat(64);
    assert.deepEqual(parseImageRef(`reg.io/app:1@${d}`), { registry: 'reg.io', repository: 'reg.io/app', tagOrDigest: d });
    assert.equal(formatImageRef(parseImageRef(`reg.io/app@${d}`)), `reg.io/app@${d}`);
    assert.equal(formatImageRef(parseImageRef('app')), 'app:latest');
  });
});

describe('registry credentials', () => {
  test('parse one object or a list; serveraddress defaults to docker.io', () => {
    assert.deepEqual(parseRegistryAuth('{"username":"u","password":"p"}'), [{ username: 'u', password: 'p', serveraddress: 'docker.io' }]);
    assert.equal(parseRegistryAuth('[{"username":"u","password":"p","serveraddress":"r.io"},{"username":"v","password":"q","serveraddress":"s.io"}]').length, 2);
    assert.deepEqual(parseRegistryAuth(undefined), []);
    assert.deepEqual(parseRegistryAuth('  '), []);
  });

  test('malformed values fail without repeating the secret', () => {
    for (const bad of ['{"username":"u","password":', '{"username":"u"}', '"s3cret-token"', '[1]']) {
      assert.throws(
        () => parseRegistryAuth(bad),
        (err: unknown) => err instanceof RegistryAuthConfigError && !err.message.includes('s3cret') && !err.message.includes('"u"'),
      );
    }
  });

  test('credentials go only to the registry they were given for', () => {
    const auths = parseRegistryAuth('{"username":"u","password":"p","serveraddress":"https://127.0.0.1:5000/v2/"}');
    assert.equal(authFor('127.0.0.1:5000', auths)?.username, 'u');
    assert.equal(authFor('evil.example.com', auths), undefined);
    assert.equal(authFor('docker.io', auths), undefined);
    assert.equal(normalizeRegistry('https://index.docker.io/v1/'), 'docker.io');
  });
});

describe('pull progress stream', () => {
  test('lines are reassembled across arbitrary chunks', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('{"status":"Pul'), []);
    assert.deepEqual(s.push('ling"}\r\n\n{"status":"Done"}\n{"sta'), ['{"status":"Pulling"}', '{"status":"Done"}']);
    assert.deepEqual(s.push('tus":"x"}'), []);
    assert.deepEqual(s.end(), ['{"status":"x"}']);
  });

  test('podman\'s in-stream failure is found (errorDetail.message preferred)', () => {
    const line =
      '{"progressDetail":{},"errorDetail":{"message":"reading manifest nope in 127.0.0.1:5000/app: manifest unknown"},"error":"short"}';
    assert.equal(parseProgressLine(line)?.error, 'reading manifest nope in 127.0.0.1:5000/app: manifest unknown');
    assert.equal(parseProgressLine('{"error":"boom"}')?.error, 'boom');
    assert.equal(parseProgressLine('{"status":"Download complete","id":"94673e0ae26f"}')?.error, undefined);
  });

  test('junk lines are skipped, not fatal', () => {
    assert.equal(parseProgressLine('not json'), undefined);
    assert.equal(parseProgressLine('[1,2]'), undefined);
  });
});

describe('container facts', () => {
  test('podman state names map onto Docker\'s', () => {
    assert.equal(normalizeState('configured'), 'created');
    assert.equal(normalizeState('stopped'), 'exited');
    assert.equal(normalizeState('Running'), 'running');
    assert.equal(normalizeState('weird'), 'unknown');
    assert.equal(normalizeState(undefined), 'unknown');
  });

  test('Go zero times mean never', () => {
    assert.equal(engineTime('0001-01-01T00:00:00Z'), undefined);
    assert.equal(engineTime(''), undefined);
    assert.equal(engineTime('2026-11-21T09:40:08.5133Z'), '2026-11-21T09:40:08.5133Z');
  });

  test('engine times compare by value, not as strings (trailing zeros are trimmed)', () => {
    // As strings, ".5133Z" sorts after ".51330068Z"; as times it is earlier.
    assert.ok(compareEngineTimes('2026-11-21T09:40:08.5133Z', '2026-11-21T09:40:08.51330068Z') < 0);
    assert.ok(compareEngineTimes('2026-11-21T09:40:09Z', '2026-11-21T09:40:08.9Z') > 0);
    assert.ok(compareEngineTimes(undefined, '2026-11-21T09:40:08Z') < 0);
  });

  test('CPU in millicores from two cumulative samples', () => {
    const at = (readAt: string, cpuTotalNs: number) => ({ readAt, cpuTotalNs, memoryUsage: 0, memoryLimit: 0 });
    assert.equal(cpuMillicores(at('2026-01-01T00:00:00Z', 1e9), at('2026-01-01T00:00:02Z', 2e9)), 500);
    assert.equal(cpuMillicores(at('2026-01-01T00:00:02Z', 1e9), at('2026-01-01T00:00:02Z', 2e9)), 0, 'no interval, no figure');
  });

  test('log frames are split into stdout and stderr', () => {
    const frame = (type: number, text: string): Buffer => {
      const h = Buffer.alloc(8);
      h[0] = type;
      h.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([h, Buffer.from(text)]);
    };
    const buf = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err\n'), frame(1, 'out2\n'), frame(1, 'trunc').subarray(0, 10)]);
    assert.deepEqual(splitStreams(framesOf(buf)), { stdout: 'out1\nout2\n', stderr: 'err\n' });
  });
});

describe('translateEngineError', () => {
  const httpErr = (statusCode: number, message: string): Error =>
    Object.assign(new Error(`(HTTP code ${statusCode}) - ${message}`), { statusCode, json: { message } });

  test('socket problems are retryable unavailability', () => {
    const e = translateEngineError(Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' }), { what: 'ping' });
    assert.ok(e instanceof EngineUnavailableError);
    assert.equal(e.retryable, true);
    assert.equal(e.code, 'ENGINE_UNAVAILABLE');
  });

  test('404 means a missing container or a missing image depending on the call', () => {
    assert.ok(translateEngineError(httpErr(404, 'no such container'), { what: 'x', kind: 'container' }) instanceof ContainerNotFoundError);
    assert.ok(translateEngineError(httpErr(404, 'no such image'), { what: 'x', kind: 'create' }) instanceof ImageNotFoundError);
    assert.ok(translateEngineError(httpErr(404, 'failed to find image'), { what: 'x', kind: 'image' }) instanceof ImageNotFoundError);
  });

  test("podman's 500 for a container removed between its name's lookup and its read is a missing container", () => {
    const msg = 'container d3c6e7cbcb19 does not exist in database: no such container';
    assert.ok(translateEngineError(httpErr(500, msg), { what: 'inspect container ozy-a-0-app', kind: 'container' }) instanceof ContainerNotFoundError);
    assert.ok(!(translateEngineError(httpErr(500, 'something else'), { what: 'x', kind: 'container' }) instanceof ContainerNotFoundError));
  });

  test("podman's refusal to remove a namespace owner gets its own class", () => {
    const e = translateEngineError(httpErr(500, 'container abc has dependent containers which must be removed before it: def'), {
      what: 'remove',
      kind: 'container',
    });
    assert.ok(e instanceof ContainerHasDependentsError);
  });

  test('name conflicts on create, and everything else as a request error carrying the engine message', () => {
    assert.ok(translateEngineError(httpErr(409, 'the container name "ozy-web-0-app" is already in use'), { what: 'c', kind: 'create' }) instanceof ContainerNameConflictError);
    const e = translateEngineError(httpErr(400, 'invalid memory'), { what: 'create container x', kind: 'create' });
    assert.ok(e instanceof EngineRequestError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /create container x: invalid memory/);
    assert.equal(translateEngineError(httpErr(500, 'boom'), { what: 'x' }).retryable, true);
  });
});
