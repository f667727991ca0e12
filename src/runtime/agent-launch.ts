// How an `ozy agent` process is started. An agent lives for months and
// holds the whole schedule when it polls; node's defaults size the heap for
// throughput, not for that. Measured on the poller of 5,000 jobs
// (`node dist/bench/run.js poll`, docs/benchmarks.md): ~230 MiB RSS with
// node's defaults, ~140 MiB with these, for the same live data (~50 MiB).
// - `--max-semi-space-size=2`: the young generation grows to 16 MiB
//   semi-spaces during a cold round and never gives them back; 2 MiB
//   semi-spaces cost a few more scavenges of short-lived garbage.
// - `--heap-growing-percent=25`: the old generation is collected when it
//   has grown 25 % past the data that survived the last collection, instead
//   of V8's dynamic factor (up to 4× for a fast-growing heap), which let it
//   sit at ~2× the live data. No cap: a bigger repository still fits.
// - `MALLOC_ARENA_MAX=2`: glibc gives every thread that mallocs its own
//   arena (V8's GC and compiler helpers, libuv's pool) and keeps what each
//   freed: ~20 MiB of RSS. Two arenas are enough for one event loop.
// - `MALLOC_TRIM_THRESHOLD_` / `MALLOC_MMAP_THRESHOLD_` at 128 KiB: glibc
//   otherwise raises both after a large buffer is freed (up to 32/64 MiB),
//   so the cold round's git buffers stay in the heap: ~8 MiB less RSS.
// `--optimize-for-size` saves ~15 MiB more but made decide() ~50 % slower
// in CPU: not used. bin/ozy applies the same settings (a shell launcher
// cannot import this file; a unit test keeps the two equal).

/** V8 flags every agent process is started with. */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=25'];

/** Environment every agent process is started with (a value already set by the caller wins). */
export const AGENT_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_TRIM_THRESHOLD_: '131072',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/** The environment for an agent child: AGENT_ENV under what the caller set. */
export function agentEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...AGENT_ENV, ...env };
}
