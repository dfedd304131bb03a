#!/usr/bin/env bash
# System packages the benchmarks (not the tests) need: wrk, the HTTP load generator of benchmarks/web.py and
# benchmarks/cluster_throughput.py. Installs only what is missing.
set -euo pipefail
command -v wrk >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system packages: wrk"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null
