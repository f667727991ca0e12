import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay } from '../../../src/source/backoff';
import { isValidBranchName } from '../../../src/source/branch-name';
import {
  basicAuthHeader,
  DEFAULT_TOKEN_USERNAME,
  redact,
  resolveCredentials,
  secretForms,
  splitUrlCredentials,
} from '../../../src/source/credentials';
import { GitSourceError, isPushConflict, translateGitError } from '../../../src/source/errors';
import { GitSource } from '../../../src/source/git-source';

const ctx = { operation: 'fetch branch main', url: 'https://git.example/jobs', secrets: ['tok3n-value'] };
const withCode = (code: string, message: string, data?: unknown): Error => Object.assign(new Error(message), { code, data });

describe('credentials', () => {
  test('userinfo is taken out of the URL and returned separately', () => {
    assert.deepEqual(splitUrlCredentials('https://bob:p%40ss@git.example/jobs.git/'), {
      url: 'https://git.example/jobs.git',
      username: 'bob',
      password: 'p@ss',
    });
    assert.deepEqual(splitUrlCredentials('http://127.0.0.1:8080/repo'), { url: 'http://127.0.0.1:8080/repo' });
  });

  test('a token wins over a URL password; the username defaults to x-access-token', () => {
    assert.deepEqual(resolveCredentials({ url: 'u' }, 'tok', undefined), { username: DEFAULT_TOKEN_USERNAME, password: 'tok' });
    assert.deepEqual(resolveCredentials({ url: 'u', username: 'bob', password: 'pw' }, 'tok', undefined), { username: 'bob', password: 'tok' });
    assert.deepEqual(resolveCredentials({ url: 'u', username: 'bob', password: 'pw' }, undefined, 'ci'), { username: 'ci', password: 'pw' });
    assert.equal(resolveCredentials({ url: 'u' }, undefined, 'ci'), undefined);
  });

  test('redaction removes URL userinfo, the raw, URL-encoded and Basic-encoded secret', () => {
    const c = { username: 'x-access-token', password: 'a/b+c' };
    const header = basicAuthHeader(c);
    const text = `GET https://x-access-token:a%2Fb%2Bc@host/r failed; sent ${header}; token a/b+c`;
    const out = redact(text, secretForms(c));
    assert.ok(!out.includes('a/b+c') && !out.includes('a%2Fb%2Bc') && !out.includes(header.slice(6)), out);
    assert.match(out, /https:\/\/\*\*\*@host\/r/);
  });
});

describe('translateGitError', () => {
  test('HTTP statuses map to auth, not-found, unreachable (retryable) and protocol errors', () => {
    const http = (status: number) => translateGitError(withCode('HttpError', `HTTP Error: ${status}`, { statusCode: status }), ctx);
    assert.equal(http(401).code, 'GIT_AUTH');
    assert.equal(http(403).code, 'GIT_AUTH');
    assert.equal(http(404).code, 'GIT_REPO_NOT_FOUND');
    assert.equal(http(503).code, 'GIT_UNREACHABLE');
    assert.equal(http(503).retryable, true);
    assert.equal(http(429).retryable, true);
    assert.equal(http(418).code, 'GIT_PROTOCOL');
  });

  test('network errors are retryable GIT_UNREACHABLE; disk errors GIT_LOCAL', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND']) {
      const e = translateGitError(withCode(code, `connect ${code}`), ctx);
      assert.equal(e.code, 'GIT_UNREACHABLE');
      assert.equal(e.retryable, true);
      assert.equal(e.causeCode, code);
    }
    assert.equal(translateGitError(new Error('socket hang up'), ctx).code, 'GIT_UNREACHABLE');
    assert.equal(translateGitError(withCode('ENOSPC', 'no space left'), ctx).code, 'GIT_LOCAL');
  });

  test('third-party text is redacted in the message and the original error is not attached', () => {
    const e = translateGitError(new Error('weird failure at https://me:tok3n-value@git.example/jobs with tok3n-value'), ctx);
    assert.equal(e.code, 'GIT_ERROR');
    assert.ok(!e.message.includes('tok3n-value'), e.message);
    assert.equal((e as { cause?: unknown }).cause, undefined);
  });

  test('push conflicts: client-side rejections and lost server-side ref updates; hooks are not conflicts', () => {
    assert.ok(isPushConflict(withCode('PushRejectedError', 'not ff')));
    assert.ok(isPushConflict(withCode('UserCanceledError', 'canceled')));
    assert.ok(isPushConflict(withCode('GitPushError', 'x', { prettyDetails: '\n  - refs/heads/main: failed to update ref' })));
    assert.ok(isPushConflict(withCode('GitPushError', 'x', { prettyDetails: '\n  - refs/heads/main: fetch first' })));
    assert.ok(!isPushConflict(withCode('GitPushError', 'x', { prettyDetails: '\n  - refs/heads/main: pre-receive hook declined' })));
    assert.ok(!isPushConflict(withCode('HttpError', 'x', { statusCode: 500 })));
  });
});

describe('branch names and back-off', () => {
  test('branch names follow git check-ref-format', () => {
    for (const ok of ['main', 'ozy/reports', 'release-1.2']) assert.ok(isValidBranchName(ok), ok);
    for (const bad of ['', 'a..b', '/main', 'main/', 'a b', 'x.lock', '-x', 'a@{1}', 'a\\b', 'a:b', 'a/.b']) {
      assert.ok(!isValidBranchName(bad), bad);
    }
  });

  test('back-off doubles per attempt, is capped and jittered within [½, 1]', () => {
    assert.equal(backoffDelay(1, 100, 2000, () => 1), 100);
    assert.equal(backoffDelay(3, 100, 2000, () => 1), 400);
    assert.equal(backoffDelay(10, 100, 2000, () => 1), 2000);
    assert.equal(backoffDelay(3, 100, 2000, () => 0), 200);
  });
});

describe('GitSource construction', () => {
  const code = (c: string) => (e: unknown) => e instanceof GitSourceError && e.code === c;
  test('only http(s) URLs are accepted, and refused without echoing credentials', () => {
    for (const url of ['ssh://git@example.com/x.git', 'git@github.com:x/y.git', 'file:///tmp/x']) {
      assert.throws(() => new GitSource({ url, branch: 'main', dir: '/nonexistent' }), code('GIT_INVALID_URL'), url);
    }
    assert.throws(
      () => new GitSource({ url: 'ftp://me:hunter22@host/x', branch: 'main', dir: '/nonexistent' }),
      (e: unknown) => e instanceof GitSourceError && !e.message.includes('hunter22'),
    );
  });
  test('a bad branch name is refused', () => {
    assert.throws(() => new GitSource({ url: 'https://h/r', branch: 'a..b', dir: '/nonexistent' }), code('GIT_INVALID_PATH'));
  });
  test('the exposed URL carries no credentials', () => {
    assert.equal(new GitSource({ url: 'https://me:pw@h/r.git', branch: 'main', dir: '/x' }).url, 'https://h/r.git');
  });
});
