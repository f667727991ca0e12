// A cron expression → lookup tables the schedule search steps through.
// The syntax is node-cron 4.6's, exactly: its own validateDetailed() parses
// (5 fields, or 6 with seconds first; names like jan and mon; ranges, wrap-
// around ranges like 22-2, steps, lists; @daily and the other nicknames;
// `?`; L, L-3, 15W, LW in the day of month; 5L and 1#2 in the day of week).
// node-cron is imported here only: the rest of src/cron reads CronFields.
import { validateDetailed, type CronFieldError, type ParsedFields } from 'node-cron';
import { daysFromCivil, daysInMonth, weekdayOfDays } from './civil';

/**
 * `next[x]`: the smallest allowed value ≥ x, or -1; `prev[x]`: the largest
 * allowed value ≤ x, or -1. Indexed one past the field's range, so stepping
 * over the end needs no bounds check.
 */
export interface Steps {
  next: Int8Array;
  prev: Int8Array;
}

export interface CronFields {
  second: Steps;
  minute: Steps;
  hour: Steps;
  month: Steps;
  /** Bit d-1 set when day d of that month matches both day fields (node-cron ANDs them). */
  dayMask(year: number, month: number): number;
}

export type FieldsResult = { ok: true; fields: CronFields } | { ok: false; message: string };

export function parseFields(expr: string): FieldsResult {
  let parsed: ReturnType<typeof validateDetailed>;
  try {
    parsed = validateDetailed(expr);
  } catch (err) {
    return { ok: false, message: `cannot be read: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!parsed.valid || !parsed.fields) return { ok: false, message: describeError(parsed.errors[0]) };
  return compile(parsed.fields);
}

function compile(f: ParsedFields): FieldsResult {
  const second = numbers(f.second, 0, 59);
  const minute = numbers(f.minute, 0, 59);
  const hour = numbers(f.hour, 0, 23);
  const month = numbers(f.month, 1, 12);
  const dom = dayOfMonthRule(f.dayOfMonth);
  const dow = dayOfWeekRule(f.dayOfWeek);
  // node-cron validated these; a token it accepts and this file does not know would be a node-cron upgrade.
  if (!second || !minute || !hour || !month || !dom || !dow) return { ok: false, message: 'uses a form this version of Ozymandias does not evaluate' };
  const masks = new Map<number, number>();
  return {
    ok: true,
    fields: {
      second: steps(second, 59),
      minute: steps(minute, 59),
      hour: steps(hour, 23),
      month: steps(month, 12),
      dayMask(year, m) {
        const key = year * 16 + m;
        let mask = masks.get(key);
        if (mask === undefined) {
          mask = dayMaskOf(year, m, dom, dow);
          if (masks.size > 512) masks.clear();
          masks.set(key, mask);
        }
        return mask;
      },
    },
  };
}

function numbers(values: readonly (number | string)[], min: number, max: number): number[] | undefined {
  return values.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) ? (values as number[]) : undefined;
}

function steps(allowed: readonly number[], max: number): Steps {
  const set = new Set(allowed);
  const next = new Int8Array(max + 2).fill(-1);
  const prev = new Int8Array(max + 2).fill(-1);
  for (let x = max; x >= 0; x--) next[x] = set.has(x) ? x : next[x + 1]!;
  for (let x = 0; x <= max + 1; x++) prev[x] = set.has(x) ? x : x > 0 ? prev[x - 1]! : -1;
  return { next, prev };
}

// Day rules: one predicate per token, as node-cron's matchesDayOfMonth /
// matchesDayOfWeek evaluate them (test/unit/cron/times.test.ts compares).
type DayTest = (day: number, last: number, weekday: (d: number) => number) => boolean;

function dayOfMonthRule(values: readonly (number | string)[]): DayTest[] | undefined {
  const tests: DayTest[] = [];
  for (const v of values) {
    if (typeof v === 'number') {
      tests.push((d) => d === v);
      continue;
    }
    if (v === 'L') {
      tests.push((d, last) => d === last);
      continue;
    }
    const w = /^(\d{1,2}|L)W$/.exec(v);
    if (w) {
      tests.push((d, last, wd) => nearestWeekday(w[1] === 'L' ? last : Number(w[1]), last, wd) === d);
      continue;
    }
    const offset = /^L-(\d{1,2})$/.exec(v);
    if (offset) {
      const n = Number(offset[1]);
      tests.push((d, last) => last - n >= 1 && d === last - n);
      continue;
    }
    return undefined;
  }
  return tests;
}

/** `15W`: the weekday nearest the 15th, not leaving the month. */
function nearestWeekday(target: number, last: number, weekday: (d: number) => number): number {
  if (target < 1 || target > last) return -1;
  const wd = weekday(target);
  if (wd === 6) return target === 1 ? target + 2 : target - 1;
  if (wd === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function dayOfWeekRule(values: readonly (number | string)[]): DayTest[] | undefined {
  const tests: DayTest[] = [];
  for (const v of values) {
    if (typeof v === 'number') {
      tests.push((d, _last, wd) => wd(d) === v);
      continue;
    }
    const nth = /^([0-7])#([1-5])$/.exec(v);
    if (nth) {
      const weekday = Number(nth[1]) % 7;
      const n = Number(nth[2]);
      tests.push((d, _last, wd) => wd(d) === weekday && Math.floor((d - 1) / 7) + 1 === n);
      continue;
    }
    const lastOf = /^([0-7])L$/i.exec(v);
    if (lastOf) {
      const weekday = Number(lastOf[1]) % 7;
      tests.push((d, last, wd) => wd(d) === weekday && d + 7 > last);
      continue;
    }
    return undefined;
  }
  return tests;
}

function dayMaskOf(year: number, month: number, dom: DayTest[], dow: DayTest[]): number {
  const last = daysInMonth(year, month);
  const first = daysFromCivil(year, month, 1);
  const weekday = (d: number) => weekdayOfDays(first + d - 1);
  let mask = 0;
  for (let d = 1; d <= last; d++) {
    if (dom.some((t) => t(d, last, weekday)) && dow.some((t) => t(d, last, weekday))) mask |= 1 << (d - 1);
  }
  return mask;
}

// Messages: node-cron says "61 is a invalid expression for minute"; a PR
// author wants to know what is wrong with it.
const FIELD_INFO: Record<string, { label: string; min: number; max: number; names?: string }> = {
  second: { label: 'second', min: 0, max: 59 },
  minute: { label: 'minute', min: 0, max: 59 },
  hour: { label: 'hour', min: 0, max: 23 },
  dayOfMonth: { label: 'day-of-month', min: 1, max: 31, names: 'L, L-3, 15W' },
  month: { label: 'month', min: 1, max: 12, names: 'jan…dec' },
  dayOfWeek: { label: 'day-of-week', min: 0, max: 7, names: 'sun…sat, 5L, 1#2; 0 and 7 are Sunday' },
};

function describeError(err: CronFieldError | undefined): string {
  if (!err) return 'is not a cron expression';
  if (err.field === 'expression') {
    const count = /expected 5 or 6 fields but got (\d+)/.exec(err.message);
    if (count) return `expected 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, got ${count[1]}`;
    if (/illegal characters/.test(err.message)) return 'has characters a cron expression cannot have (allowed: digits, names like jan or mon, spaces and * , - / ? # L W, or a nickname like @daily)';
    return err.message;
  }
  const info = FIELD_INFO[err.field];
  if (!info) return err.message;
  if (/impossible day of month/.test(err.message)) return `${info.label} field: no month of the month field has day ${err.value ?? '?'}, so the job would never run`;
  const value = err.value ?? '';
  const plain = tokenProblem(value, info);
  if (plain) return `${info.label} field: ${plain}`;
  return `${info.label} field: ${JSON.stringify(value)} is not valid (expected ${info.min}-${info.max}${info.names ? ` or ${info.names}` : ''}, ranges like 1-5, steps like */15 or 0-30/10, lists like 1,15,30)`;
}

/** The first token of a field value that is out of range or has a zero step, said plainly. */
function tokenProblem(value: string, info: { min: number; max: number }): string | undefined {
  for (const token of value.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(token);
    if (!m) continue;
    for (const n of [m[2], m[3]]) {
      if (n !== undefined && (Number(n) < info.min || Number(n) > info.max)) return `${n} is out of range ${info.min}-${info.max}`;
    }
    if (m[4] !== undefined && Number(m[4]) === 0) return `${JSON.stringify(token)} has a step of 0`;
  }
  return undefined;
}
