#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what the tests
# use (Debian packages, when missing and when we are root), then runs the
# Rust suites (which drive the gateway with Python's xmlrpc.client and other
# real clients), the example, compiles the benchmarks, checks the deployment
# files offline, and runs the compose stack end to end in containers.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

cargo test --all-targets
cargo test --doc
cargo run --quiet --example embedded -- --once
cargo bench --no-run --quiet
bash scripts/check-deploy.sh
bash tests/compose/run.sh
echo "scripts/test.sh: all suites passed"
