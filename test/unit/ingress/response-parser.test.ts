import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadResponseError, ChunkedDecoder, MAX_HEAD_BYTES, parseResponseHead, ResponseHeadReader, type ResponseHead } from '../../../src/ingress/response-parser';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const head = (s: string, method = 'GET'): ResponseHead => {
  const h = parseResponseHead(b(s), method);
  assert.ok(h, 'a complete head');
  return h;
};

describe('response head', () => {
  test('status, reason, headers as sent, and where the head ends', () => {
    const text = 'HTTP/1.1 201 Created Here\r\nX-App: a\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 3\r\n\r\nabc';
    const h = head(text);
    assert.equal(h.status, 201);
    assert.equal(h.reason, 'Created Here');
    assert.deepEqual(h.headers, ['X-App', 'a', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '3']);
    assert.equal(h.headBytes, text.length - 3);
    assert.equal(h.body, 'length');
    assert.equal(h.contentLength, 3);
    assert.equal(h.keepAlive, true);
  });

  test('hop-by-hop headers, those Connection names, and Transfer-Encoding are not passed on', () => {
    const h = head('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nConnection: keep-alive, X-Hop\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nProxy-Connection: x\r\nTransfer-Encoding: chunked\r\nX-Kept: 2\r\nSet-Cookie: c=1\r\n\r\n');
    assert.deepEqual(h.headers, ['X-Kept', '2', 'Set-Cookie', 'c=1']);
    assert.equal(h.body, 'chunked');
  });

  test('incomplete heads wait for more bytes; an endless one is refused', () => {
    assert.equal(parseResponseHead(b('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n'), 'GET'), undefined);
    assert.throws(() => parseResponseHead(Buffer.alloc(MAX_HEAD_BYTES + 1, 0x61), 'GET'), BadResponseError);
  });

  test('framing: length, chunked, until close, or none', () => {
    assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').body, 'chunked');
    const close = head('HTTP/1.1 200 OK\r\n\r\n');
    assert.equal(close.body, 'close');
    assert.equal(close.keepAlive, false, 'a body that ends with the connection ends the connection');
    assert.equal(head('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'HEAD').body, 'none', 'a HEAD response has no body whatever it says');
    assert.equal(head('HTTP/1.1 204 No Content\r\n\r\n').body, 'none');
    assert.equal(head('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n').body, 'none');
    assert.equal(head('HTTP/1.1 100 Continue\r\n\r\n').body, 'none');
    const gz = head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n');
    assert.deepEqual([gz.body, gz.keepAlive], ['close', false], 'a coding that is not chunked last: read until close');
  });

  test('Transfer-Encoding wins over Content-Length, and such a connection is not reused', () => {
    const h = head('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n');
    assert.deepEqual([h.body, h.keepAlive], ['chunked', false]);
  });

  test('keep-alive: HTTP/1.1 unless Connection: close, HTTP/1.0 only with Connection: keep-alive', () => {
    assert.equal(head('HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
    assert.equal(head('HTTP/1.1 200 OK\r\nConnection: x-hop, close\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
    assert.equal(head('HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n').keepAlive, true, 'tokens, not substrings');
    assert.equal(head('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
    assert.equal(head('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').keepAlive, true);
  });

  test('repeated equal Content-Lengths are one; different ones, or garbage, are refused', () => {
    assert.equal(head('HTTP/1.1 200 OK\r\nContent-Length: 4, 4\r\nContent-Length: 4\r\n\r\n').contentLength, 4);
    for (const bad of ['Content-Length: 4\r\nContent-Length: 5', 'Content-Length: 4, 5', 'Content-Length: -1', 'Content-Length: 0x10', 'Content-Length: ']) {
      assert.throws(() => parseResponseHead(b(`HTTP/1.1 200 OK\r\n${bad}\r\n\r\n`), 'GET'), BadResponseError, bad);
    }
  });

  test('what two parsers could read differently is refused', () => {
    const bad = [
      'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n', // obs-fold
      'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n', // space before the colon
      'HTTP/1.1 200 OK\r\n: no name\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\n\r\n', // a control character Node would refuse to send
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'SSH-2.0-OpenSSH\r\n\r\n',
    ];
    for (const text of bad) assert.throws(() => parseResponseHead(b(text), 'GET'), BadResponseError, JSON.stringify(text));
  });

  test('a status line without a reason phrase', () => {
    const h = head('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual([h.status, h.reason], [200, '']);
    assert.equal(head('HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n').reason, '', 'an empty one after the space');
  });

  test('values: spaces and tabs around them dropped, inside them kept; empty values and obs-text allowed', () => {
    const h = head('HTTP/1.1 200 OK\r\nX-A:  a \t b\t \r\nX-B:\r\nX-C:\t\r\nX-D: caf\xe9\r\nContent-Length:0\r\n\r\n');
    assert.deepEqual(h.headers, ['X-A', 'a \t b', 'X-B', '', 'X-C', '', 'X-D', 'caf\xe9', 'Content-Length', '0']);
    assert.equal(h.contentLength, 0);
  });

  test('header names are matched in any case, by whole name', () => {
    const h = head('HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 2\r\ncOnNeCtIoN: CLOSE\r\nContent-Lengths: 9\r\nTEA: 1\r\n\r\n');
    assert.deepEqual([h.contentLength, h.keepAlive], [2, false]);
    assert.deepEqual(h.headers, ['CONTENT-LENGTH', '2', 'Content-Lengths', '9', 'TEA', '1']);
  });

  test('the head ends at the first blank line, wherever it falls', () => {
    for (let pad = 0; pad < 4; pad++) {
      const text = `HTTP/1.1 200 OK\r\nX-P: ${'p'.repeat(pad)}\r\nContent-Length: 4\r\n\r\n\r\n\r\n`;
      const h = head(text);
      assert.equal(h.headBytes, text.length - 4, `pad ${pad}`);
      assert.equal(parseResponseHead(b(text.slice(0, h.headBytes - 1)), 'GET'), undefined, `pad ${pad}: one byte short`);
    }
  });

  test('bare CR or LF inside a line is refused', () => {
    for (const bad of ['X-A: a\rb', 'X-A: a\nb', 'X-A: a\r', 'X\nA: 1']) {
      assert.throws(() => parseResponseHead(b(`HTTP/1.1 200 OK\r\n${bad}\r\nContent-Length: 0\r\n\r\n`), 'GET'), BadResponseError, JSON.stringify(bad));
    }
    assert.throws(() => parseResponseHead(b('HTTP/1.1 200 OK\rX\r\n\r\n'), 'GET'), BadResponseError);
    assert.throws(() => parseResponseHead(b('HTTP/1.1 200 OK\n\r\n\r\n'), 'GET'), BadResponseError);
  });
});

describe('response head reader', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n';

  test('the same head bytes again: the same head, not parsed again; other bytes or a HEAD request: parsed', () => {
    const r = new ResponseHeadReader();
    const first = r.read(b(`${text}abc`), 'GET');
    assert.ok(first);
    assert.equal(r.read(b(`${text}xyz`), 'GET'), first, 'the body bytes do not matter');
    const forHead = r.read(b(text), 'HEAD');
    assert.notEqual(forHead, first);
    assert.equal(forHead?.body, 'none');
    const other = r.read(b(text.replace('text/plain', 'text/plaim')), 'GET');
    assert.deepEqual(other?.headers, ['Content-Type', 'text/plaim', 'Content-Length', '3']);
    assert.equal(r.read(b(text.slice(0, -1)), 'GET'), undefined, 'a head cut short is incomplete, not the last one');
  });

  test('the remembered bytes are a copy: the buffer they came in may be reused', () => {
    const r = new ResponseHeadReader();
    const buf = b(text);
    const first = r.read(buf, 'GET');
    buf.write('HTTP/1.1 500 Oops\r\n\r\n', 'latin1');
    const h = r.read(buf, 'GET');
    assert.notEqual(h, first);
    assert.equal(h?.status, 500);
  });

  test('interim answers are not remembered', () => {
    const r = new ResponseHeadReader();
    assert.equal(r.read(b('HTTP/1.1 100 Continue\r\n\r\n'), 'GET')?.status, 100);
    assert.equal(r.read(b('HTTP/1.1 100 Continue\r\n\r\n'), 'GET')?.status, 100);
  });
});

/** Decodes `body` fed in pieces of `step` bytes; returns the data and the end offset in the whole. */
function decode(body: string, step: number): { data: string; end: number } {
  const d = new ChunkedDecoder();
  const all = b(body);
  let data = '';
  const sink = { chunkData: (p: Buffer) => (data += p.toString('latin1')) };
  for (let off = 0; off < all.length; off += step) {
    const piece = all.subarray(off, Math.min(all.length, off + step));
    const end = d.feed(piece, 0, sink);
    if (end >= 0) return { data, end: off + end };
  }
  return { data, end: -1 };
}

describe('chunked body', () => {
  const body = '5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\nNEXT';

  test('data, extensions and trailers, fed whole or one byte at a time', () => {
    for (const step of [1, 2, 3, 7, body.length]) {
      const r = decode(body, step);
      assert.equal(r.data, 'hello, world', `step ${step}`);
      assert.equal(r.end, body.length - 'NEXT'.length, `step ${step}: the end of the message, before the bytes after it`);
    }
  });

  test('hex sizes in either case; an unfinished body asks for more', () => {
    assert.equal(decode(`A\r\n${'x'.repeat(10)}\r\na\r\n${'y'.repeat(10)}\r\n0\r\n\r\n`, 4).data, 'x'.repeat(10) + 'y'.repeat(10));
    assert.equal(decode('5\r\nhel', 100).end, -1);
    assert.equal(decode('5\r\nhello\r\n0\r\n', 100).end, -1, 'the final CRLF is still to come');
  });

  test('malformed framing is refused', () => {
    for (const bad of ['\r\n', 'g\r\n', '5\nhello\r\n', '5\r\nhelloX\r\n', '1234567890abc\r\n', '0\r\nX: 1\n\r\n']) {
      assert.throws(() => decode(`${bad}0\r\n\r\n`, 100), BadResponseError, JSON.stringify(bad));
    }
  });
});
