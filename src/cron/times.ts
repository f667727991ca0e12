// When a cron job's runs are due. compileSchedule() parses once; next() and
// prev() then step field by field (month → day → hour → minute → second),
// jumping straight to the next allowed value of each, never scanning
// seconds: a yearly schedule costs about what a per-minute one does.
//
// Fields are read in the job's IANA time zone. The search walks wall times
// ("local seconds", see zone.ts) and maps each candidate back to an instant:
//   - a wall time that does not exist (the spring-forward gap, e.g. 02:30 on
//     the day New York or Berlin moves to summer time) is skipped: that
//     day has no run at 02:30. This is node-cron 4.6's behaviour (its
//     getNextMatch maps the missing time to 03:30, which its own match()
//     then refuses).
//   - a wall time that happens twice (the fall-back overlap, e.g. 01:30 in
//     New York, 02:30 in Berlin) fires once, at its first occurrence; the
//     repeated stretch of the second pass never fires. node-cron 4.6 is
//     inconsistent here: west of Greenwich it fires the first occurrence,
//     east of it the second (its localTimeToTimestamp guesses the offset
//     from the wall time read as UTC). Ozymandias takes the first
//     everywhere, so a run is never an hour late and never doubled.
// Times are unix seconds. The search gives up after 8 calendar years
// (undefined): enough for any 29 February.
import { civilFromDays, DAY_SEC, daysFromCivil } from './civil';
import { parseFields, type CronFields, type Steps } from './fields';
import { instantsOfWall, isValidTimeZone, zoneOf, type WallInstants, type Zone } from './zone';

export { isValidTimeZone };

export interface ScheduleError {
  /** The job field at fault. */
  field: 'schedule' | 'timeZone';
  /** Without the field name, e.g. `minute field: 61 is out of range 0-59`. */
  message: string;
}

export interface CompiledSchedule {
  readonly expression: string;
  readonly timeZone: string;
  /** The first scheduled unix second strictly after `afterSec`; undefined if none within 8 years. */
  next(afterSec: number): number | undefined;
  /** The last scheduled unix second at or before `atOrBeforeSec`; undefined if none within 8 years. */
  prev(atOrBeforeSec: number): number | undefined;
  /**
   * Whether the fields match the zone's wall clock at `sec`: node-cron's
   * `task.match()`, exactly. During a fall-back overlap both passes match;
   * next() and prev() return only the first.
   */
  matches(sec: number): boolean;
}

/** Years searched before next()/prev() give up. */
export const SEARCH_YEARS = 8;

export function isScheduleError(x: CompiledSchedule | ScheduleError): x is ScheduleError {
  return 'message' in x;
}

export function compileSchedule(expr: string, timeZone: string): CompiledSchedule | ScheduleError {
  const zone = zoneOf(timeZone);
  if (!zone) return { field: 'timeZone', message: `${JSON.stringify(timeZone)} is not a time zone: expected an IANA name like UTC, Europe/Berlin or America/New_York` };
  const parsed = parseFields(expr);
  if (!parsed.ok) return { field: 'schedule', message: parsed.message };
  return new Schedule(expr, timeZone, zone, parsed.fields);
}

class Schedule implements CompiledSchedule {
  constructor(
    readonly expression: string,
    readonly timeZone: string,
    private readonly zone: Zone,
    private readonly fields: CronFields,
  ) {}

  next(afterSec: number): number | undefined {
    const after = Math.floor(afterSec);
    let wall = after + this.zone.offsetAt(after);
    const maxYear = yearOfWall(wall) + SEARCH_YEARS;
    for (;;) {
      const w = nextWall(this.fields, wall, maxYear);
      if (w === undefined) return undefined;
      const { instants, transition } = instantsOfWall(this.zone, w);
      const first = instants[0];
      if (first !== undefined && first > after) return first;
      if (transition && instants.length === 0) {
        // In the gap: resume at the first wall time after it.
        wall = Math.max(w, transition.at + transition.offsetAfter - 1);
      } else if (transition) {
        // A repeated wall time whose first pass is behind us: the rest of the second pass never fires.
        wall = Math.max(w, transition.at + transition.offsetBefore - 1);
      } else {
        wall = w;
      }
    }
  }

  prev(atOrBeforeSec: number): number | undefined {
    const at = Math.floor(atOrBeforeSec);
    let wall = at + this.zone.offsetAt(at) + 1;
    const minYear = yearOfWall(wall) - SEARCH_YEARS;
    // In the second pass of an overlap, every first-pass time is already behind: start from the end of the first pass.
    const here = instantsOfWall(this.zone, wall - 1);
    if (here.transition && here.instants.length === 2 && here.instants[1] === at) wall = here.transition.at + here.transition.offsetBefore;
    for (;;) {
      const w = prevWall(this.fields, wall, minYear);
      if (w === undefined) return undefined;
      const { instants, transition }: WallInstants = instantsOfWall(this.zone, w);
      const first = instants[0];
      if (first !== undefined && first <= at) return first;
      // In the gap: resume at the last wall time before it.
      wall = transition && instants.length === 0 ? Math.min(w, transition.at + transition.offsetBefore) : w;
    }
  }

  matches(sec: number): boolean {
    const s = Math.floor(sec);
    const wall = s + this.zone.offsetAt(s);
    const days = Math.floor(wall / DAY_SEC);
    const sod = wall - days * DAY_SEC;
    const { year, month, day } = civilFromDays(days);
    const f = this.fields;
    return (
      f.month.next[month] === month &&
      (f.dayMask(year, month) & (1 << (day - 1))) !== 0 &&
      f.hour.next[Math.floor(sod / 3600)] === Math.floor(sod / 3600) &&
      f.minute.next[Math.floor((sod % 3600) / 60)] === Math.floor((sod % 3600) / 60) &&
      f.second.next[sod % 60] === sod % 60
    );
  }
}

function yearOfWall(wall: number): number {
  return civilFromDays(Math.floor(wall / DAY_SEC)).year;
}

/** Decomposed wall time; the search moves its fields like an odometer. */
interface Cursor {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function cursorOf(wall: number): Cursor {
  const days = Math.floor(wall / DAY_SEC);
  const sod = wall - days * DAY_SEC;
  const { year, month, day } = civilFromDays(days);
  return { y: year, mo: month, d: day, h: Math.floor(sod / 3600), mi: Math.floor((sod % 3600) / 60), s: sod % 60 };
}

function wallOf(c: Cursor): number {
  return daysFromCivil(c.y, c.mo, c.d) * DAY_SEC + c.h * 3600 + c.mi * 60 + c.s;
}

/** Days 1..31 are bits 0..30: the first set day ≥ d, or -1. */
function nextDay(mask: number, d: number): number {
  const rest = mask >>> (d - 1);
  return rest === 0 ? -1 : d + 31 - Math.clz32(rest & -rest);
}

/** The last set day ≤ d, or -1. */
function prevDay(mask: number, d: number): number {
  const upTo = d >= 31 ? mask : mask & ((1 << d) - 1);
  return upTo === 0 ? -1 : 32 - Math.clz32(upTo);
}

function up(steps: Steps, x: number): number {
  return steps.next[x] ?? -1;
}

function down(steps: Steps, x: number): number {
  return x < 0 ? -1 : steps.prev[x] ?? -1;
}

/** The first matching wall time strictly after `wall`, in years ≤ maxYear. */
export function nextWall(f: CronFields, wall: number, maxYear: number): number | undefined {
  const c = cursorOf(wall + 1);
  for (;;) {
    if (c.y > maxYear) return undefined;
    const mo = up(f.month, c.mo);
    if (mo < 0) {
      Object.assign(c, { y: c.y + 1, mo: 1, d: 1, h: 0, mi: 0, s: 0 });
      continue;
    }
    if (mo !== c.mo) Object.assign(c, { mo, d: 1, h: 0, mi: 0, s: 0 });
    const d = nextDay(f.dayMask(c.y, c.mo), c.d);
    if (d < 0) {
      Object.assign(c, { mo: c.mo + 1, d: 1, h: 0, mi: 0, s: 0 });
      continue;
    }
    if (d !== c.d) Object.assign(c, { d, h: 0, mi: 0, s: 0 });
    const h = up(f.hour, c.h);
    if (h < 0) {
      Object.assign(c, { d: c.d + 1, h: 0, mi: 0, s: 0 });
      continue;
    }
    if (h !== c.h) Object.assign(c, { h, mi: 0, s: 0 });
    const mi = up(f.minute, c.mi);
    if (mi < 0) {
      Object.assign(c, { h: c.h + 1, mi: 0, s: 0 });
      continue;
    }
    if (mi !== c.mi) Object.assign(c, { mi, s: 0 });
    const s = up(f.second, c.s);
    if (s < 0) {
      Object.assign(c, { mi: c.mi + 1, s: 0 });
      continue;
    }
    c.s = s;
    return wallOf(c);
  }
}

/** The last matching wall time strictly before `wall`, in years ≥ minYear. */
export function prevWall(f: CronFields, wall: number, minYear: number): number | undefined {
  const c = cursorOf(wall - 1);
  for (;;) {
    if (c.y < minYear) return undefined;
    const mo = down(f.month, c.mo);
    if (mo < 1) {
      Object.assign(c, { y: c.y - 1, mo: 12, d: 31, h: 23, mi: 59, s: 59 });
      continue;
    }
    if (mo !== c.mo) Object.assign(c, { mo, d: 31, h: 23, mi: 59, s: 59 });
    const d = c.d < 1 ? -1 : prevDay(f.dayMask(c.y, c.mo), c.d);
    if (d < 0) {
      Object.assign(c, { mo: c.mo - 1, d: 31, h: 23, mi: 59, s: 59 });
      continue;
    }
    if (d !== c.d) Object.assign(c, { d, h: 23, mi: 59, s: 59 });
    const h = down(f.hour, c.h);
    if (h < 0) {
      Object.assign(c, { d: c.d - 1, h: 23, mi: 59, s: 59 });
      continue;
    }
    if (h !== c.h) Object.assign(c, { h, mi: 59, s: 59 });
    const mi = down(f.minute, c.mi);
    if (mi < 0) {
      Object.assign(c, { h: c.h - 1, mi: 59, s: 59 });
      continue;
    }
    if (mi !== c.mi) Object.assign(c, { mi, s: 59 });
    const s = down(f.second, c.s);
    if (s < 0) {
      Object.assign(c, { mi: c.mi - 1, s: 59 });
      continue;
    }
    c.s = s;
    return wallOf(c);
  }
}
