#!/usr/bin/env bash
# The README's first command, for a fresh Debian/Ubuntu machine with Node 20:
# installs what is missing (etcd, podman with runc, busybox-static, git...;
# the npm packages; the build) with scripts/install-deps.sh, then starts a
# one-machine cluster with `ozy up`. Arguments go to `ozy up` (see
# `ozy up --help`); Ctrl-C stops everything it started.
#
# Set OZY_UP_SKIP_INSTALL=1 to skip the installation on later runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${OZY_UP_SKIP_INSTALL:-0}" != "1" ]; then
  (cd "$root" && bash scripts/install-deps.sh)
fi
# Not cd'ed into the project: relative paths in the arguments (--repo-dir,
# --state-dir) mean what they mean where the user typed them.
exec node "$root/dist/src/cli/ozy.js" up "$@"
