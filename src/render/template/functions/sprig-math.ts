// Sprig's numeric functions beyond add/sub/mul/div (numeric.go): float
// arithmetic done in decimal as Sprig does (shopspring/decimal, then the
// nearest float64), biggest/maxf/minf, ceil/floor/round, seq, untilStep,
// toDecimal. Sequences are charged to the step budget before they exist.
import { FunctionError } from '../errors';
import { asInt, formatNumber, toFloat, toInteger } from '../values';
import { spec, type FunctionSpec } from './types';

// ---- decimal arithmetic for addf/subf/mulf/divf (shopspring/decimal, then InexactFloat64) ----

interface Dec {
  m: bigint;
  e: number; // value = m × 10^e
}

function toDec(v: unknown): Dec {
  const f = toFloat(v);
  if (!Number.isFinite(f)) throw new FunctionError(`cannot convert ${formatNumber(f)} to a decimal`);
  const [mant, exp] = f.toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '').replace('-', '');
  const frac = (mant.split('.')[1] ?? '').length;
  const m = BigInt(digits) * (f < 0 ? -1n : 1n);
  return { m, e: Number(exp) - frac };
}
function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e);
  return [a.m * 10n ** BigInt(a.e - e), b.m * 10n ** BigInt(b.e - e), e];
}
function decToNumber(d: Dec): number {
  return Number(`${d.m}e${d.e}`);
}
function decAdd(a: Dec, b: Dec): Dec {
  const [x, y, e] = align(a, b);
  return { m: x + y, e };
}
function decSub(a: Dec, b: Dec): Dec {
  const [x, y, e] = align(a, b);
  return { m: x - y, e };
}
function decMul(a: Dec, b: Dec): Dec {
  return { m: a.m * b.m, e: a.e + b.e };
}
/** decimal.Div: 16 digits after the point, rounded half away from zero. */
function decDiv(a: Dec, b: Dec): Dec {
  if (b.m === 0n) throw new FunctionError('decimal division by 0');
  const scale = 16;
  // a/b = (a.m/b.m) × 10^(a.e-b.e); compute with `scale` fractional digits.
  const shift = scale + (a.e - b.e);
  let num = a.m;
  let den = b.m;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  const neg = num < 0n !== den < 0n;
  const an = num < 0n ? -num : num;
  const ad = den < 0n ? -den : den;
  let q = an / ad;
  if ((an % ad) * 2n >= ad) q += 1n;
  return { m: neg ? -q : q, e: -scale };
}

// ---- seq / untilStep ----

function untilStep(start: number, stop: number, step: number, budget: { step(n?: number): void }): number[] {
  const out: number[] = [];
  if (stop < start) {
    if (step >= 0) return out;
    budget.step(Math.ceil((start - stop) / -step));
    for (let i = start; i > stop; i += step) out.push(i);
    return out;
  }
  if (step <= 0) return out;
  budget.step(Math.ceil((stop - start) / step));
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

function seq(params: number[], budget: { step(n?: number): void }): string {
  switch (params.length) {
    case 1: {
      const end = params[0] as number;
      const inc = end < 1 ? -1 : 1;
      return untilStep(1, end + inc, inc, budget).join(' ');
    }
    case 2: {
      const [start, end] = params as [number, number];
      const step = end < start ? -1 : 1;
      return untilStep(start, end + step, step, budget).join(' ');
    }
    case 3: {
      const [start, step, end] = params as [number, number, number];
      let inc = 1;
      if (end < start) {
        inc = -1;
        if (step > 0) return '';
      }
      return untilStep(start, end + inc, step, budget).join(' ');
    }
    default:
      return '';
  }
}


export const SPRIG_MATH_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['seq', spec(0, Infinity, (args, ctx) => seq(args.map((a) => asInt(a, 'argument')), ctx.budget))],
  ['untilStep', spec(3, 3, ([a, b, c], ctx) => untilStep(asInt(a, 'start'), asInt(b, 'stop'), asInt(c, 'step'), ctx.budget))],
  ['toDecimal', spec(1, 1, ([v]) => {
    const s = typeof v === 'string' ? v : formatNumber(toFloat(v));
    return /^[+-]?[0-7]+$/.test(s) ? parseInt(s, 8) : 0;
  })],
  ['biggest', spec(1, Infinity, (args) => args.map(toInteger).reduce((a, b) => (b > a ? b : a)))],
  ['maxf', spec(1, Infinity, (args) => args.map(toFloat).reduce((a, b) => Math.max(a, b)))],
  ['minf', spec(1, Infinity, (args) => args.map(toFloat).reduce((a, b) => Math.min(a, b)))],
  ['add1f', spec(1, 1, ([v]) => decToNumber(decAdd(toDec(v), { m: 1n, e: 0 })))],
  ['addf', spec(0, Infinity, (args) => decToNumber(args.map(toDec).reduce(decAdd, { m: 0n, e: 0 })))],
  ['subf', spec(1, Infinity, ([a, ...rest]) => decToNumber(rest.map(toDec).reduce(decSub, toDec(a))))],
  ['mulf', spec(1, Infinity, ([a, ...rest]) => decToNumber(rest.map(toDec).reduce(decMul, toDec(a))))],
  ['divf', spec(1, Infinity, ([a, ...rest]) => decToNumber(rest.map(toDec).reduce(decDiv, toDec(a))))],
  ['ceil', spec(1, 1, ([v]) => Math.ceil(toFloat(v)))],
  ['floor', spec(1, 1, ([v]) => Math.floor(toFloat(v)))],
  ['round', spec(2, 3, ([v, places, roundOn]) => {
    const on = roundOn === undefined ? 0.5 : toFloat(roundOn);
    const pow = 10 ** toFloat(places);
    const digit = pow * toFloat(v);
    const frac = digit - Math.trunc(digit);
    return (frac >= on ? Math.ceil(digit) : Math.floor(digit)) / pow;
  })],
];
