// A seeded PRNG for the fault suite: a failing run prints its seed, and
// OZY_FAULT_SEED=<seed> replays the same choices (kill order, delays).
import { prng } from '../harness/random';

export interface Rng {
  seed: number;
  /** [0, 1) */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRng(seed = Number(process.env.OZY_FAULT_SEED) || Math.floor(Math.random() * 2 ** 31)): Rng {
  const next = prng(seed);
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}
