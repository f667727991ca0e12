// The windows: up to the lowest count asked for over a short window (at once
// with window 0), down only to the highest count wanted over a whole window,
// and only after watching a whole window.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScaleDownWindow } from '../../../src/autoscale/window';

const W = 60_000;

describe('ScaleDownWindow', () => {
  test('scale-up is immediate, even on a fresh window', () => {
    const w = new ScaleDownWindow(0);
    assert.equal(w.next(2, 5, 1000, W), 5);
  });

  test('scale-down waits until a whole window was watched', () => {
    const w = new ScaleDownWindow(0);
    for (let t = 0; t < W; t += 1000) assert.equal(w.next(4, 1, t, W), 4, `at ${t}`);
    assert.equal(w.next(4, 1, W, W), 1);
  });

  test('scale-down goes to the highest count wanted in the window', () => {
    const w = new ScaleDownWindow(0);
    w.next(4, 4, 0, W);
    w.next(4, 3, 30_000, W);
    w.next(4, 2, 50_000, W);
    assert.equal(w.next(4, 1, 61_000, W), 3, 'the 4 at t=0 left; 3 at 30 s is the highest left');
    assert.equal(w.next(3, 1, 91_000, W), 2);
    assert.equal(w.next(2, 1, 111_000, W), 1);
  });

  test('a higher wish within the window restarts the wait', () => {
    const w = new ScaleDownWindow(0);
    for (let t = 0; t <= W; t += 10_000) w.next(4, 2, t, W);
    assert.equal(w.next(4, 2, W, W), 2);
    const v = new ScaleDownWindow(0);
    for (let t = 0; t < W; t += 10_000) v.next(4, 2, t, W);
    v.next(4, 4, W - 1, W); // a blip back up to the count
    assert.equal(v.next(4, 2, W + 1000, W), 4);
    assert.equal(v.scaleDownAt(4, W), 2 * W - 1);
    assert.equal(v.next(4, 2, 2 * W, W), 2);
  });

  test('scale-up: to the lowest count asked for over the up window, once that much was watched', () => {
    const w = new ScaleDownWindow(0);
    assert.equal(w.next(2, 5, 1000, W, 3000), 2, 'not watched for 3 s yet');
    assert.equal(w.next(2, 5, 2000, W, 3000), 2);
    assert.equal(w.next(2, 4, 3000, W, 3000), 4, 'the lowest ask of the last 3 s');
    const blip = new ScaleDownWindow(0);
    for (let t = 0; t <= 10_000; t += 1000) assert.equal(blip.next(2, t === 6000 ? 6 : 2, t, W, 3000), 2, `a single high ask at 6 s is ignored (at ${t})`);
    for (let t = 11_000; t < 14_000; t += 1000) assert.equal(blip.next(2, 6, t, W, 3000), 2, `a lasting one waits 3 s (at ${t})`);
    assert.equal(blip.next(2, 6, 14_000, W, 3000), 6);
  });

  test('window 0: down at once', () => {
    const w = new ScaleDownWindow(0);
    assert.equal(w.next(5, 2, 0, 0), 2);
  });

  test('scaleDownAt: nothing lower wanted → undefined; else when it may happen', () => {
    const w = new ScaleDownWindow(1000);
    w.next(3, 3, 1000, W);
    assert.equal(w.scaleDownAt(3, W), undefined);
    w.next(3, 1, 5000, W);
    assert.equal(w.scaleDownAt(3, W), 1000 + W);
  });
});
