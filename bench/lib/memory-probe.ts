// Preloaded into a measured `ozy agent` (`node --expose-gc -r memory-probe.js`)
// so the harness can ask what its RSS is made of without changing the agent:
// on SIGUSR2 it writes process.memoryUsage() before and after a full GC,
// and V8's heap spaces, as JSON to $OZY_BENCH_MEMORY_PROBE_OUT.
import * as fs from 'node:fs';
import * as v8 from 'node:v8';

export interface MemoryProbe {
  before: NodeJS.MemoryUsage;
  afterGc: NodeJS.MemoryUsage;
  spaces: Array<{ space: string; usedMb: number; sizeMb: number }>;
}

const out = process.env.OZY_BENCH_MEMORY_PROBE_OUT;
if (out) {
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const probe: MemoryProbe = {
      before,
      afterGc: process.memoryUsage(),
      spaces: v8.getHeapSpaceStatistics().map((s) => ({
        space: s.space_name,
        usedMb: Math.round((s.space_used_size / 2 ** 20) * 10) / 10,
        sizeMb: Math.round((s.space_size / 2 ** 20) * 10) / 10,
      })),
    };
    fs.writeFileSync(`${out}.tmp`, JSON.stringify(probe));
    fs.renameSync(`${out}.tmp`, out);
  });
}
