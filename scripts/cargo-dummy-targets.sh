#!/usr/bin/env bash
# Creates a placeholder source (`fn main() {}`) for every target Cargo.toml
# names (lib, bins, benches, examples, tests: explicit `path`, or the path
# cargo infers from `name`), and prints their paths. The Dockerfile builds the
# dependencies against these placeholders, in a layer of their own, before
# the real source is copied in.
#
#   scripts/cargo-dummy-targets.sh [Cargo.toml]
set -euo pipefail
manifest=${1:-Cargo.toml}

paths=$(awk '
  function flush() {
    if (kind != "") {
      if (path == "") path = (kind == "lib") ? "src/lib.rs" : dir[kind] "/" name ".rs"
      print path
    }
    kind = ""; name = ""; path = ""
  }
  BEGIN { dir["bin"] = "src/bin"; dir["bench"] = "benches"; dir["example"] = "examples"; dir["test"] = "tests" }
  /^[[:space:]]*\[/ { flush() }
  /^[[:space:]]*\[\[(bin|bench|example|test)\]\]/ { kind = $0; gsub(/[][[:space:]]/, "", kind) }
  /^[[:space:]]*\[lib\]/ { kind = "lib" }
  kind != "" && /^[[:space:]]*name[[:space:]]*=/ { v = $0; sub(/^[^"]*"/, "", v); sub(/".*/, "", v); name = v }
  kind != "" && /^[[:space:]]*path[[:space:]]*=/ { v = $0; sub(/^[^"]*"/, "", v); sub(/".*/, "", v); path = v }
  END { flush() }
' "$manifest")

for f in src/main.rs src/lib.rs $paths; do
  if [ ! -e "$f" ]; then
    mkdir -p "$(dirname "$f")"
    echo 'fn main() {}' > "$f"
    echo "$f"
  fi
done
