import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRetry, type AttemptState } from '../../../src/ingress/retry';
import { BACKEND_TIMEOUT, BAD_RESPONSE, UPSTREAM_CLOSED, type UpstreamFailure } from '../../../src/ingress/upstream-conn';

const fail = (over: Partial<UpstreamFailure>): UpstreamFailure => ({ code: 'ECONNRESET', message: '', connected: true, reused: false, responseStarted: false, ...over });
const state = (over: Partial<AttemptState> = {}): AttemptState => ({ method: 'GET', hasBody: false, bodyStarted: false, instancesLeft: 1, staleRetries: 0, dropRetries: 0, ...over });

test('a connection that could not be made goes to the next instance, whatever the request', () => {
  const refused = fail({ code: 'ECONNREFUSED', connected: false });
  assert.equal(decideRetry(refused, state({ method: 'POST', hasBody: true })), 'next-instance');
  assert.equal(decideRetry(refused, state({ dropRetries: 1 })), 'next-instance', 'not limited to one retry: nothing reached any instance');
  assert.equal(decideRetry(refused, state({ instancesLeft: 0 })), 'answer', 'every instance tried once');
  assert.equal(decideRetry(fail({ code: BACKEND_TIMEOUT, connected: false }), state()), 'answer', 'a connect that hangs is a 504');
});

test('a new connection dropped before any response byte: a safe method, or an unsent body, goes to one other instance', () => {
  for (const code of ['ECONNRESET', 'EPIPE', UPSTREAM_CLOSED]) {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) assert.equal(decideRetry(fail({ code }), state({ method })), 'next-instance', `${method} ${code}`);
  }
  assert.equal(decideRetry(fail({}), state({ method: 'POST', hasBody: true })), 'next-instance', 'its body is still unread');
  assert.equal(decideRetry(fail({}), state({ method: 'POST', hasBody: true, bodyStarted: true })), 'answer', 'part of the body is gone');
  assert.equal(decideRetry(fail({}), state({ method: 'POST' })), 'answer', 'a bodyless POST that reached the instance is all sent');
  assert.equal(decideRetry(fail({}), state({ method: 'DELETE' })), 'answer');
  assert.equal(decideRetry(fail({}), state({ dropRetries: 1 })), 'answer', 'once per request');
  assert.equal(decideRetry(fail({}), state({ instancesLeft: 0 })), 'answer');
});

test('a pooled connection the instance had closed: again on a new connection to the same instance, once', () => {
  const stale = fail({ reused: true, code: UPSTREAM_CLOSED });
  assert.equal(decideRetry(stale, state({ instancesLeft: 0 })), 'same-instance');
  assert.equal(decideRetry(stale, state({ method: 'POST' })), 'same-instance', 'a bodyless request never got there');
  assert.equal(decideRetry(stale, state({ method: 'POST', hasBody: true, bodyStarted: true })), 'answer');
  assert.equal(decideRetry(stale, state({ staleRetries: 1 })), 'answer');
});

test('never replayed: once the response started, a timeout, a malformed response', () => {
  assert.equal(decideRetry(fail({ responseStarted: true }), state()), 'answer');
  assert.equal(decideRetry(fail({ reused: true, responseStarted: true }), state()), 'answer');
  assert.equal(decideRetry(fail({ code: BACKEND_TIMEOUT }), state()), 'answer');
  assert.equal(decideRetry(fail({ code: BAD_RESPONSE }), state()), 'answer');
});
