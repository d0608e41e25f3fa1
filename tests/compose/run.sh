#!/usr/bin/env bash
# The compose stack's end-to-end tests: builds the image (scripts/build-image.sh,
# no registry needed), starts docker-compose.yml under a project name of its
# own with the gateway on a free 127.0.0.1 port and its config in a temp dir,
# waits for health, runs tests/compose/test_stack.py, and always tears the
# stack down. Without docker it skips, except under CI=true where it fails
# (the rule of scripts/need.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=scripts/need.sh
. scripts/need.sh
# Without docker (or its daemon) or compose, the suite is skipped, except
# under CI=true where it fails (scripts/need.sh).
need docker docker.io docker info || exit 0
compose_bin=()
if docker compose version >/dev/null 2>&1; then
  compose_bin=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose_bin=(docker-compose)
fi
need "docker compose" docker-compose test ${#compose_bin[@]} -gt 0 || exit 0

project=xmlrpcgw-test-$$
config_dir=$(mktemp -d)
compose=("${compose_bin[@]}" -p "$project" -f "$PWD/docker-compose.yml")
cleanup() {
  status=$?
  if [ "$status" != 0 ]; then
    echo "tests/compose: failed; the stack's logs:" >&2
    "${compose[@]}" logs --no-color --tail=60 >&2 || true
  fi
  "${compose[@]}" down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
  rm -rf "$config_dir"
  exit "$status"
}
trap cleanup EXIT

# The image: built once from the host's static binaries.
build_started=$(date +%s)
bash scripts/build-image.sh xmlrpc-gateway:local
echo "tests/compose: image built in $(( $(date +%s) - build_started ))s"
started=$(date +%s)

# A copy of the config the tests may edit (the SIGHUP test), readable by the
# container's non-root user.
cp deploy/compose/gateway.toml "$config_dir/"
chmod 755 "$config_dir"
chmod 644 "$config_dir/gateway.toml"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export XMLRPC_GATEWAY_IMAGE=xmlrpc-gateway:local
export XMLRPC_GATEWAY_PORT=$port
export XMLRPC_GATEWAY_CONFIG_DIR=$config_dir

"${compose[@]}" up -d --no-build
gateway=$("${compose[@]}" ps -q gateway)
deadline=$(( $(date +%s) + 120 ))
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$gateway")" = healthy ]; do
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "tests/compose: the gateway did not become healthy" >&2
    exit 1
  fi
  sleep 1
done
echo "tests/compose: stack healthy after $(( $(date +%s) - started ))s"

GATEWAY_URL=http://127.0.0.1:$port \
COMPOSE="$(printf '%q ' "${compose[@]}")" \
CONFIG_DIR=$config_dir \
  python3 tests/compose/test_stack.py
echo "tests/compose: stack up and tests done in $(( $(date +%s) - started ))s"
