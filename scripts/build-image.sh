#!/usr/bin/env bash
# Builds the runtime image without pulling anything: the static release
# binaries are built on the host with cargo, staged as a root file system in
# target/image-context/rootfs, and put into a `FROM scratch` image by
# deploy/docker/Dockerfile.prebuilt (the same runtime settings as the final
# stage of ./Dockerfile). Prints the image's size.
#
#   scripts/build-image.sh [TAG]        (default xmlrpc-gateway:local)
#
# SKIP_CARGO=1 reuses binaries already built (CI builds them once).
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-${XMLRPC_GATEWAY_IMAGE:-xmlrpc-gateway:local}}
target=x86_64-unknown-linux-gnu
bins=(xmlrpc-gateway demo-backend)
out=target/$target/release
ctx=target/image-context

if [ "${SKIP_CARGO:-0}" != 1 ]; then
  # --target keeps these flags off build scripts and proc macros, and the
  # output apart from the debug builds the tests use.
  RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target "$target" --bins
fi

rm -rf "$ctx"
mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/etc/xmlrpc-gateway"
for bin in "${bins[@]}"; do
  cp "$out/$bin" "$ctx/rootfs/"
  strip "$ctx/rootfs/$bin"
  # A static binary: `ldd` says "not a dynamic executable" or "statically
  # linked", and `file` says "static" (static-pie).
  if ldd "$ctx/rootfs/$bin" 2>&1 | grep -qE 'not a dynamic executable|statically linked'; then
    :
  else
    echo "build-image: $bin is dynamically linked:" >&2
    ldd "$ctx/rootfs/$bin" >&2 || true
    exit 1
  fi
done
echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > "$ctx/rootfs/etc/passwd"
echo 'nonroot:x:65532:' > "$ctx/rootfs/etc/group"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/"
fi

previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
docker build --quiet -f deploy/docker/Dockerfile.prebuilt -t "$tag" "$ctx" >/dev/null
# The image this tag named before, now untagged: ours to remove.
current=$(docker image inspect -f '{{.Id}}' "$tag")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
size=$(docker image inspect -f '{{.Size}}' "$tag")
echo "build-image: $tag built, $((size / 1024 / 1024)) MiB ($size bytes)"
