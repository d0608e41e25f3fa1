#!/usr/bin/env bash
# Installs the tools the tests drive, from Debian's packages, when missing.
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

need=()
command -v python3 >/dev/null || need+=(python3)
# supervisord and supervisorctl: a real XML-RPC server on a Unix socket and
# its real client (tests/supervisord.rs).
command -v supervisord >/dev/null || need+=(supervisor)
# Perl RPC::XML: a second real XML-RPC client.
perl -MRPC::XML::Client -e 1 2>/dev/null || need+=(librpc-xml-perl)
# promtool lints /metrics and checks the Prometheus config and alert rules
# (scripts/check-deploy.sh); the prometheus server scrapes a gateway.
command -v promtool >/dev/null || need+=(prometheus)
# lighttpd: a real CGI-capable web server for CGI mode.
[ -x /usr/sbin/lighttpd ] || command -v lighttpd >/dev/null || need+=(lighttpd)
# venv: check-deploy.sh installs kubernetes-validate, check-jsonschema and
# hadolint into a venv under target/.
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# strip: scripts/build-image.sh strips the image's binaries.
command -v strip >/dev/null || need+=(binutils)
# The compose tests: the v1 command where docker has no compose plugin.
if command -v docker >/dev/null && ! docker compose version >/dev/null 2>&1; then
  command -v docker-compose >/dev/null || need+=(docker-compose)
fi
# redis-server: the rate-limit store two gateways share (tests/cluster_limits.rs).
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || need+=(redis-server)
# chromium: a real headless browser renders the methods page and runs its
# filter script (tests/docs_page.rs).
command -v chromium >/dev/null || need+=(chromium)
# openssl: self-signed certificates for the TLS tests.
command -v openssl >/dev/null || need+=(openssl)

# PyPI clients the tests drive as legacy clients: python-bugzilla (its
# XML-RPC mode, tests/bugzilla.rs) and python-wordpress-xmlrpc
# (tests/wordpress.rs).
python3 -c 'import bugzilla' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore python-bugzilla \
  || echo "install-test-deps: could not pip install python-bugzilla" >&2
python3 -c 'import wordpress_xmlrpc' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore python-wordpress-xmlrpc \
  || echo "install-test-deps: could not pip install python-wordpress-xmlrpc" >&2

# opentelemetry-proto (with protobuf): the stand-in OTLP collector of
# tests/tracing.rs decodes the gateway's trace exports with it.
python3 -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore opentelemetry-proto \
  || echo "install-test-deps: could not pip install opentelemetry-proto" >&2

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
