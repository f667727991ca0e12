// Schedule arithmetic: node-cron's syntax and matching, exactly (compared
// with node-cron itself on thousands of seeded random instants), time zones
// and DST, the search bound, and speed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTask, validate } from 'node-cron';
import { compileSchedule, isScheduleError, isValidTimeZone, type CompiledSchedule } from '../../../src/cron/times';
import { prng } from '../../harness/random';

const sec = (iso: string) => Date.parse(iso) / 1000;
const iso = (s: number | undefined) => (s === undefined ? 'undefined' : new Date(s * 1000).toISOString());

function compiled(expr: string, tz = 'UTC'): CompiledSchedule {
  const c = compileSchedule(expr, tz);
  assert.ok(!isScheduleError(c), `${expr} in ${tz}: ${JSON.stringify(c)}`);
  return c;
}

function errorOf(expr: string, tz = 'UTC') {
  const c = compileSchedule(expr, tz);
  assert.ok(isScheduleError(c), `${expr} should be refused`);
  return c;
}

/** node-cron's own task, for its match() and (private) next-match walker. */
function withNodeCron<T>(expr: string, tz: string, fn: (task: { match(d: Date): boolean; next(d: Date): Date }) => T): T {
  const task = createTask(expr, () => undefined, { timezone: tz });
  try {
    const walker = (task as unknown as { timeMatcher: { getNextMatch(d: Date): Date } }).timeMatcher;
    return fn({ match: (d) => task.match(d), next: (d) => walker.getNextMatch(d) });
  } finally {
    void task.destroy();
  }
}

const EXPRESSIONS = [
  '* * * * *',
  '*/7 * * * *',
  '15 */2 * * *',
  '0 9-17/2 * * mon-fri',
  '30 22-2 * * *',
  '0 0 1,15 * *',
  '0 12 * * 7',
  '0 12 * * 0,3',
  '0 0 13 * 5',
  '0 6 L * *',
  '0 6 L-2 * *',
  '0 6 15W * *',
  '0 6 LW * *',
  '0 8 * * 5L',
  '0 8 * * 1#2',
  '0 0 29 2 *',
  '0 30 1 * * *',
  '*/20 */5 * * * *',
  '0 0 * jan,jul sun',
  '@daily',
  '@hourly',
  '0 2 * * *',
  '30 1 * * *',
  '30 2 * * *',
];
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Sao_Paulo'];
const FROM = sec('2019-01-01T00:00:00Z');
const TO = sec('2034-01-01T00:00:00Z');

describe('syntax: exactly what node-cron accepts', () => {
  for (const expr of [...EXPRESSIONS, '61 * * * *', '* * *', '*/0 * * * *', '0 0 30 2 *', '0 0 31 4,6 *', '* * * * foo', 'a b c d e', '0 0 32W * *', '0 0 * * 8', '0 0 * * 1#6', '5/10 * * * *', '@reboot', '* * * * * * *', '1-70 * * * *', '0 0 L-31 * *', '0 0 ? * mon', '0 0 * 13 *']) {
    test(JSON.stringify(expr), () => assert.equal(isScheduleError(compileSchedule(expr, 'UTC')), !validate(expr)));
  }
  test('messages say what is wrong with which field', () => {
    assert.deepEqual(errorOf('61 * * * *'), { field: 'schedule', message: 'minute field: 61 is out of range 0-59' });
    assert.equal(errorOf('0 25 * * *').message, 'hour field: 25 is out of range 0-23');
    assert.equal(errorOf('0 1-70 * * * *').message, 'minute field: 70 is out of range 0-59');
    assert.equal(errorOf('*/0 * * * *').message, 'minute field: "*/0" has a step of 0');
    assert.match(errorOf('* * *').message, /^expected 5 fields \(minute hour day-of-month month day-of-week\), or 6 with seconds first, got 3$/);
    assert.match(errorOf('0 0 * * fry').message, /^day-of-week field: "fry" is not valid \(expected 0-7 or sun…sat/);
    assert.match(errorOf('0 0 30 2 *').message, /^day-of-month field: no month of the month field has day 30, so the job would never run$/);
    assert.match(errorOf('0 0 * * * ; rm').message, /characters a cron expression cannot have/);
  });
  test('time zones: IANA names that Intl knows', () => {
    for (const tz of ['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5']) assert.ok(isValidTimeZone(tz), tz);
    for (const tz of ['', 'Mars/Olympus', '+01:00', 'Europe/Berlin ', '../etc/passwd']) assert.ok(!isValidTimeZone(tz), tz);
    assert.deepEqual(errorOf('* * * * *', 'Mars/Olympus'), {
      field: 'timeZone',
      message: '"Mars/Olympus" is not a time zone: expected an IANA name like UTC, Europe/Berlin or America/New_York',
    });
  });
});

describe('matching: the same as node-cron, on seeded random instants', () => {
  for (const tz of ZONES) {
    test(tz, () => {
      const rand = prng(tz.length * 7919);
      let matched = 0;
      let checked = 0;
      for (const expr of EXPRESSIONS) {
        const mine = compiled(expr, tz);
        withNodeCron(expr, tz, (theirs) => {
          for (let i = 0; i < 150; i++) {
            let t = FROM + Math.floor(rand() * (TO - FROM));
            // Most instants of a sparse schedule do not match: also probe around matches.
            if (i % 3 === 1) t = (mine.next(t) ?? t) + (i % 2 === 0 ? 0 : Math.floor(rand() * 3) - 1);
            if (i % 3 === 2) t -= t % 60;
            const want = theirs.match(new Date(t * 1000));
            assert.equal(mine.matches(t), want, `${expr} in ${tz} at ${iso(t)}: node-cron says ${want}`);
            checked++;
            if (want) matched++;
          }
        });
      }
      assert.ok(matched > checked / 5, `${matched} of ${checked} probes matched: too few to prove much`);
    });
  }
});

describe('next(): the same as node-cron away from fall-back overlaps', () => {
  for (const tz of ZONES) {
    test(tz, () => {
      const rand = prng(tz.length * 104729);
      let cases = 0;
      let differ = 0;
      const offsetAt = (t: number) => new Date(t * 1000).toLocaleString('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).split('GMT')[1];
      for (const expr of EXPRESSIONS) {
        const mine = compiled(expr, tz);
        withNodeCron(expr, tz, (theirs) => {
          for (let i = 0; i < 25; i++) {
            const t = FROM + Math.floor(rand() * (TO - FROM));
            const got = mine.next(t);
            const want = theirs.next(new Date(t * 1000)).getTime() / 1000;
            cases++;
            if (got === want) continue;
            differ++;
            // The documented difference: node-cron may pick a repeated wall time's second pass.
            const later = Math.max(got ?? 0, want);
            assert.notEqual(offsetAt(t), offsetAt(later), `${expr} in ${tz} after ${iso(t)}: ${iso(got)}, node-cron ${iso(want)}`);
          }
        });
      }
      assert.ok(differ <= cases / 50, `${differ} of ${cases} differ`);
    });
  }
});

describe('next() and prev() agree with each other and with matches()', () => {
  test('seeded random instants, every zone and expression', () => {
    const rand = prng(42);
    for (const tz of ZONES) {
      for (const expr of EXPRESSIONS) {
        const c = compiled(expr, tz);
        for (let i = 0; i < 10; i++) {
          const t = FROM + Math.floor(rand() * (TO - FROM));
          const n = c.next(t)!;
          const p = c.prev(t)!;
          const what = `${expr} in ${tz} at ${iso(t)}`;
          assert.ok(n > t && p <= t, what);
          assert.ok(c.matches(n) && c.matches(p), what);
          assert.ok(c.next(p)! > t, `${what}: nothing scheduled in (prev, t]`);
          assert.equal(c.prev(n - 1), p, `${what}: nothing scheduled in (prev, next)`);
          assert.equal(c.prev(n), n, what);
        }
      }
    }
  });
  test('a run of consecutive times steps exactly like a brute-force scan of matches()', () => {
    for (const [expr, tz, from] of [
      ['*/20 */5 * * * *', 'Europe/Berlin', '2024-07-01T00:00:00Z'],
      ['*/7 * * * *', 'Asia/Kolkata', '2024-01-01T00:00:00Z'],
      ['*/20 * * * * *', 'America/New_York', '2024-03-10T06:58:00Z'],
    ] as const) {
      const c = compiled(expr, tz);
      let t = sec(from);
      const stop = t + 3 * 3600;
      let scan = t;
      while (t < stop) {
        const n = c.next(t)!;
        do scan++;
        while (!c.matches(scan));
        assert.equal(iso(n), iso(scan), `${expr} in ${tz}`);
        t = n;
      }
    }
  });
});

describe('daylight saving time', () => {
  test('a wall time in the spring-forward gap is skipped, like node-cron (New York and Berlin)', () => {
    // 2024-03-10 02:00 EST → 03:00 EDT; 2024-03-31 02:00 CET → 03:00 CEST.
    assert.equal(iso(compiled('30 2 * * *', 'America/New_York').next(sec('2024-03-09T12:00:00Z'))), '2024-03-11T06:30:00.000Z');
    assert.equal(iso(compiled('30 2 * * *', 'Europe/Berlin').next(sec('2024-03-30T12:00:00Z'))), '2024-04-01T00:30:00.000Z');
    withNodeCron('30 2 * * *', 'America/New_York', (nc) => assert.equal(nc.next(new Date('2024-03-09T12:00:00Z')).toISOString(), '2024-03-11T06:30:00.000Z'));
    // prev() skips it too.
    assert.equal(iso(compiled('30 2 * * *', 'Europe/Berlin').prev(sec('2024-03-31T12:00:00Z'))), '2024-03-30T01:30:00.000Z');
  });
  test('every minute across the gap: 01:59 then 03:00 local', () => {
    const ny = compiled('* * * * *', 'America/New_York');
    assert.equal(iso(ny.next(sec('2024-03-10T06:59:00Z'))), '2024-03-10T07:00:00.000Z');
    const berlin = compiled('* * * * * *', 'Europe/Berlin');
    assert.equal(iso(berlin.next(sec('2024-03-31T00:59:59Z'))), '2024-03-31T01:00:00.000Z');
    assert.equal(iso(berlin.prev(sec('2024-03-31T01:00:00Z') - 1)), '2024-03-31T00:59:59.000Z');
  });
  test('a repeated wall time fires once, at its first occurrence (New York: 01:30 EDT; Berlin: 02:30 CEST)', () => {
    // 2024-11-03 02:00 EDT → 01:00 EST at 06:00Z; 2024-10-27 03:00 CEST → 02:00 CET at 01:00Z.
    const ny = compiled('30 1 * * *', 'America/New_York');
    assert.equal(iso(ny.next(sec('2024-11-02T12:00:00Z'))), '2024-11-03T05:30:00.000Z');
    assert.equal(iso(ny.next(sec('2024-11-03T05:30:00Z'))), '2024-11-04T06:30:00.000Z');
    assert.ok(ny.matches(sec('2024-11-03T06:30:00Z')), 'matches() is node-cron\'s: both passes match the fields');
    const berlin = compiled('30 2 * * *', 'Europe/Berlin');
    assert.equal(iso(berlin.next(sec('2024-10-26T12:00:00Z'))), '2024-10-27T00:30:00.000Z');
    assert.equal(iso(berlin.next(sec('2024-10-27T00:30:00Z'))), '2024-10-28T01:30:00.000Z');
    // node-cron picks the second pass east of Greenwich; Ozymandias does not follow it there.
    withNodeCron('30 2 * * *', 'Europe/Berlin', (nc) => assert.equal(nc.next(new Date('2024-10-26T12:00:00Z')).toISOString(), '2024-10-27T01:30:00.000Z'));
  });
  test('every 15 minutes across the overlap: the first pass, then on after it, nothing twice', () => {
    for (const [tz, from, to] of [
      ['America/New_York', '2024-11-03T05:00:00Z', '2024-11-03T08:00:00Z'],
      ['Europe/Berlin', '2024-10-26T23:30:00Z', '2024-10-27T02:30:00Z'],
    ] as const) {
      const c = compiled('*/15 * * * *', tz);
      const runs: number[] = [];
      for (let t = c.next(sec(from) - 1)!; t < sec(to); t = c.next(t)!) runs.push(t);
      const walls = runs.map((t) => new Date(t * 1000).toLocaleTimeString('en-GB', { timeZone: tz }));
      assert.equal(new Set(walls).size, walls.length, `${tz}: ${walls.join(' ')}`);
      // Three hours of instants, one of them a repeat of the hour before: 8 runs instead of 12.
      assert.equal(runs.length, 8, `${tz}: ${runs.map(iso).join(' ')}`);
      // From inside the second pass: the next run is after it; prev() is the end of the first pass.
      const secondPass = tz === 'America/New_York' ? sec('2024-11-03T06:20:00Z') : sec('2024-10-27T01:20:00Z');
      assert.equal(iso(c.next(secondPass)), iso(secondPass + 40 * 60));
      assert.equal(iso(c.prev(secondPass)), iso(secondPass - 35 * 60));
    }
  });
});

describe('bounds and speed', () => {
  test('yearly and leap-day schedules', () => {
    assert.equal(iso(compiled('0 0 1 1 *').next(sec('2024-01-01T00:00:00Z'))), '2025-01-01T00:00:00.000Z');
    assert.equal(iso(compiled('0 0 1 1 *', 'Europe/Berlin').next(sec('2024-06-01T00:00:00Z'))), '2024-12-31T23:00:00.000Z');
    // 2100 is not a leap year: the longest wait for 29 February, 8 years.
    assert.equal(iso(compiled('0 0 29 2 *').next(sec('2096-03-01T00:00:00Z'))), '2104-02-29T00:00:00.000Z');
    assert.equal(iso(compiled('0 0 29 2 *').prev(sec('2104-02-28T00:00:00Z'))), '2096-02-29T00:00:00.000Z');
  });
  test('nothing within 8 years: undefined', () => {
    // 29 February on a Monday: 2016, then 2044.
    const c = compiled('0 0 29 2 mon');
    assert.equal(iso(c.next(sec('2015-01-01T00:00:00Z'))), '2016-02-29T00:00:00.000Z');
    assert.equal(c.next(sec('2016-03-01T00:00:00Z')), undefined);
    assert.equal(c.prev(sec('2043-01-01T00:00:00Z')), undefined);
    assert.equal(iso(c.prev(sec('2045-01-01T00:00:00Z'))), '2044-02-29T00:00:00.000Z');
  });
  test('1,000 compiled jobs × next(): well under a millisecond each', () => {
    const rand = prng(7);
    const jobs = Array.from({ length: 1000 }, (_, i) => compiled(EXPRESSIONS[i % EXPRESSIONS.length]!, ZONES[i % ZONES.length]!));
    const now = sec('2026-11-30T12:00:00Z');
    const started = process.hrtime.bigint();
    for (let tick = 0; tick < 3; tick++) for (const j of jobs) assert.ok(j.next(now + tick + Math.floor(rand() * 86_400)) !== undefined);
    const perCallMs = Number(process.hrtime.bigint() - started) / 1e6 / 3000;
    assert.ok(perCallMs < 0.25, `${perCallMs.toFixed(4)} ms per next()`);
  });
});
