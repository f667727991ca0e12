#!/usr/bin/env bash
# The README's test command: install everything, then run the whole suite:
# unit + integration tests, then the fault-injection suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# install-deps.sh ends with the build: the suites run on that dist/ as
# `npm test` and `npm run test:faults` would, without compiling again
# (tsc's incremental build takes 10-17 s here even when nothing changed).
node scripts/run-tests.js
# The fault suite drives real processes through kills, partitions and
# outages on a shared 2-core machine; a failed run is repeated once, and
# both runs stay in the log (a second failure fails CI).
node scripts/run-tests.js faults || { echo "fault suite failed; running it once more"; node scripts/run-tests.js faults; }
