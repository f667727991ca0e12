#!/usr/bin/env bash
# The README's test command: install everything, then run the whole suite:
# unit + integration tests, then the fault-injection suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm test
# The fault suite drives real processes through kills, partitions and
# outages on a shared 2-core machine; a failed run is repeated once, and
# both runs stay in the log (a second failure fails CI).
# `npm test` has just built dist/: the fault runs use that build as
# `npm run test:faults` would, without compiling again.
node scripts/run-tests.js faults || { echo "fault suite failed; running it once more"; node scripts/run-tests.js faults; }
