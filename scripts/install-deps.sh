#!/usr/bin/env bash
# Installs what Ozymandias needs on Debian/Ubuntu: etcd, podman with runc,
# busybox-static (for the locally built example image), git, a registry for
# pull tests, iproute2, dig (the `ozy dns` tests), haproxy and wrk (the
# ingress benchmark), age (secrets tests), openssl (etcd TLS tests),
# chromium (the dashboard's browser tests) and prometheus (promtool and a
# scraping server for the metrics tests);
# then the npm packages and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in etcd:etcd-server etcdctl:etcd-client podman:podman runc:runc \
            busybox:busybox-static git:git docker-registry:docker-registry ip:iproute2 \
            dig:dnsutils haproxy:haproxy wrk:wrk age:age openssl:openssl; do
  bin=${pair%%:*} pkg=${pair#*:}
  command -v "$bin" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing system packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Large packages whose recommendations (fonts, desktop integration, node
# exporter) the tests do not need.
lean=()
for pair in chromium:chromium promtool:prometheus; do
  bin=${pair%%:*} pkg=${pair#*:}
  command -v "$bin" >/dev/null 2>&1 || lean+=("$pkg")
done
if [ ${#lean[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing system packages: ${lean[*]}"
  [ ${#need[@]} -gt 0 ] || $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
npm run build
