// Latency at a set request rate, from wrk paced by a Lua `delay()`.
//
// Why wrk and not a Node client: on 2 cores a Node load generator at a few
// thousand requests/s takes as much CPU as the proxy it measures, and the
// figure becomes the machine's. wrk is C (LuaJIT for the pacing): its cost
// per request is small, and its latencies are recorded in µs.
//
// Pacing: each wrk thread hands out send slots 1/rate apart; a connection
// that got its response asks `delay()` for the next free slot and waits
// until then (wrk's timers have 1 ms resolution, so requests leave in small
// bunches on each millisecond tick; the slots, not the timer, hold the
// rate). A slot already past is not caught up on: this is a closed loop, so
// a stall of the target lowers the rate actually sent (coordinated
// omission), and the figure is the latency added at that rate, not a
// queueing worst case. The achieved rate is read back from wrk's summary.
// Each response's latency runs from the moment its request was written. The
// first request on each connection goes out unpaced when it connects (32 of
// the ~17,000 of a 5 s round at 3,500 req/s).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PacedLoad {
  requests: number;
  /** Requests/s actually completed (wrk's requests ÷ its duration). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors and answers above 399. */
  errors: number;
}

export interface PacedOptions {
  /** One wrk thread per port (each port gets rate ÷ ports.length); one port: `threads` threads to it. */
  ports: number[];
  threads: number;
  host: string;
  /** Requests/s over all threads. */
  rate: number;
  seconds: number;
  /** Over all threads; enough that a connection is free when its slot comes. */
  connections: number;
  /** A command wrk runs under, e.g. ["taskset", "-c", "0"]. */
  wrap?: string[];
}

/** The Lua script for one run: constants inlined, so no arguments pass through wrk. */
function script(threadRate: number, ports: number[]): string {
  return `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } ozy_timespec;
int clock_gettime(int clk, ozy_timespec *ts);
]]
local ts = ffi.new("ozy_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local ports = { ${ports.join(', ')} }
local started = 0
function setup(thread)
  -- Threads go round robin over the ports: "direct" spreads over the backends as the proxies do.
  thread.addr = wrk.lookup("127.0.0.1", tostring(ports[started % #ports + 1]))[1]
  started = started + 1
end

local interval_us = 1e6 / ${threadRate}
local next_slot = nil
function delay()
  local now = now_us()
  next_slot = math.max((next_slot or now) + interval_us, now)
  return math.floor((next_slot - now) / 1000)
end

function done(summary, latency)
  local e = summary.errors
  io.write(string.format("ozy-paced requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d errors=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;
}

export async function wrkPaced(o: PacedOptions): Promise<PacedLoad> {
  if (o.ports.length > 1 && o.ports.length !== o.threads) throw new Error('wrkPaced: one thread per port when there are several ports');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ozy-wrk-paced-'));
  try {
    const file = path.join(dir, 'paced.lua');
    fs.writeFileSync(file, script(o.rate / o.threads, o.ports));
    const wrkArgs = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '-s', file, '-H', `Host: ${o.host}`, `http://127.0.0.1:${o.ports[0]}/`];
    const [cmd, ...args] = [...(o.wrap ?? []), 'wrk', ...wrkArgs] as [string, ...string[]];
    const { stdout } = await run(cmd, args, { timeout: (o.seconds + 30) * 1000 });
    const m = /ozy-paced requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) max_us=(\d+) errors=(\d+)/.exec(stdout);
    if (!m) throw new Error(`cannot read the paced wrk's output:\n${stdout}`);
    const [requests, durationUs, p50, p99, max, errors] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    return { requests, rps: Math.round(requests / (durationUs / 1e6)), p50Ms: p50 / 1000, p99Ms: p99 / 1000, maxMs: max / 1000, errors };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
