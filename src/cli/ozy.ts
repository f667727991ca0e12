#!/usr/bin/env node
// Process entry point (bin/ozy points here after the build).
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ozy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
