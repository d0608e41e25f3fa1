#!/usr/bin/env bash
# Installs the tools the tests drive, from Debian's packages, when missing.
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

need=()
command -v python3 >/dev/null || need+=(python3)
# Perl RPC::XML: a second real XML-RPC client.
perl -MRPC::XML::Client -e 1 2>/dev/null || need+=(librpc-xml-perl)
# promtool lints /metrics; the prometheus server scrapes a gateway.
command -v promtool >/dev/null || need+=(prometheus)
# lighttpd: a real CGI-capable web server for CGI mode.
[ -x /usr/sbin/lighttpd ] || command -v lighttpd >/dev/null || need+=(lighttpd)
# openssl: self-signed certificates for the TLS tests.
command -v openssl >/dev/null || need+=(openssl)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-test-deps: missing ${need[*]}; run as root or install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
