#!/usr/bin/env node
// Process entry point (bin/ozy points here after the build). A command has
// finished all its work when main() resolves, so exit then: a client's idle
// connection (gRPC to etcd, keep-alive to the engine) must not keep the
// process around.
import { main } from './main';
import { quietenWarnings } from './warnings';

quietenWarnings();

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ozy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
