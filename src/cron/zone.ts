// IANA time zones through Intl (the only Intl user of src/cron): the UTC
// offset at an instant, and the reverse, the instants at which a zone's
// clock shows a given wall time (none in a spring-forward gap, two in a
// fall-back overlap). One formatter per zone, made once: constructing one
// costs far more than formatting with it.
//
// Wall times are "local seconds": the unix seconds a UTC clock would show
// for the same calendar date and time of day (wall = instant + offset).
import { DAY_SEC, daysFromCivil } from './civil';

export interface Zone {
  readonly name: string;
  /** Seconds east of UTC at this unix second. */
  offsetAt(sec: number): number;
}

/** A wall time's instants, earliest first: 0 (skipped by a gap), 1, or 2 (repeated by an overlap). */
export interface WallInstants {
  instants: number[];
  /** With 0 or 2 instants: the clock's jump that skips or repeats this wall time. */
  transition?: Transition;
}

export interface Transition {
  at: number;
  offsetBefore: number;
  offsetAfter: number;
}

const UTC: Zone = { name: 'UTC', offsetAt: () => 0 };
const zones = new Map<string, Zone | null>();

/** IANA names only (`Europe/Berlin`, `UTC`, `Etc/GMT+5`); Intl's offset forms like `+01:00` are refused. */
const NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

export function isValidTimeZone(name: string): boolean {
  return zoneOf(name) !== undefined;
}

/** The zone, or undefined when Intl does not know the name. */
export function zoneOf(name: string): Zone | undefined {
  const known = zones.get(name);
  if (known !== undefined) return known ?? undefined;
  const zone = makeZone(name);
  // Bounded so a stream of bad names cannot grow the cache without end.
  if (zones.size > 1024) zones.clear();
  zones.set(name, zone ?? null);
  return zone;
}

function makeZone(name: string): Zone | undefined {
  if (typeof name !== 'string' || !NAME.test(name)) return undefined;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return undefined;
  }
  if (fmt.resolvedOptions().timeZone === 'UTC') return { ...UTC, name };
  return { name, offsetAt: (sec) => wallOf(fmt, sec) - sec };
}

// "11/30/2026, 01:26:54": format() is about 4× cheaper than formatToParts().
const FORMATTED = /^(\d{2})\/(\d{2})\/(\d+), (\d{2}):(\d{2}):(\d{2})$/;

function wallOf(fmt: Intl.DateTimeFormat, sec: number): number {
  const date = new Date(sec * 1000);
  const m = FORMATTED.exec(fmt.format(date));
  if (m) return daysFromCivil(Number(m[3]), Number(m[1]), Number(m[2])) * DAY_SEC + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  // Another ICU might punctuate differently; the parts are the same.
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(date)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return daysFromCivil(parts.year!, parts.month!, parts.day!) * DAY_SEC + (parts.hour! % 24) * 3600 + parts.minute! * 60 + parts.second!;
}

/**
 * The instants whose wall time in `zone` is `wall`. Like Temporal's
 * GetPossibleEpochNanoseconds: the offsets a day before and after are the
 * only candidates (zones do not change offset twice within two days, and
 * each candidate is checked anyway).
 */
export function instantsOfWall(zone: Zone, wall: number): WallInstants {
  const before = zone.offsetAt(wall - DAY_SEC);
  const after = zone.offsetAt(wall + DAY_SEC);
  const instants: number[] = [];
  for (const offset of before === after ? [before] : [before, after]) {
    const at = wall - offset;
    if (zone.offsetAt(at) === offset) instants.push(at);
  }
  instants.sort((a, b) => a - b);
  // Near a transition but not in its gap or overlap: one instant, no search.
  if (before === after || instants.length === 1) return { instants };
  return { instants, transition: { at: transitionBetween(zone, wall - DAY_SEC, wall + DAY_SEC, before), offsetBefore: before, offsetAfter: after } };
}

/** First second in (lo, hi] whose offset is not `before` (binary search; lo has offset `before`, hi does not). */
function transitionBetween(zone: Zone, lo: number, hi: number, before: number): number {
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zone.offsetAt(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}
