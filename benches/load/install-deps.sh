#!/usr/bin/env bash
# Installs what the load benchmark (benches/load/run.py) needs beyond the
# Rust toolchain, from Debian's packages, when missing:
#   wrk                    the load generator;
#   libxmlrpc-core-c3-dev  xmlrpc-c's C libraries and headers, the Abyss
#                          server among them (libxmlrpc_server_abyss), and
#                          xmlrpc-c-config: for the xmlrpc-c peer
#                          (peers/xmlrpc_c_server.c);
#   gcc                    to compile that peer.
# The dxr peer needs only cargo and crates.io. Safe to run again.
set -euo pipefail

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v taskset >/dev/null || need+=(util-linux)
command -v xmlrpc-c-config >/dev/null || need+=(libxmlrpc-core-c3-dev)
command -v cc >/dev/null || need+=(gcc)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing ${need[*]}; run as root or install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
