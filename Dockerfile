# The gateway's container image, built from source on any machine with
# registry access:  docker build -t xmlrpc-gateway .
# Without registry access, scripts/build-image.sh builds the same runtime image
# from host-built binaries (deploy/docker/Dockerfile.prebuilt).

# ---- build: static release binaries ----------------------------------------
FROM rust:1.95-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG TARGET=x86_64-unknown-linux-gnu
# glibc, statically linked: outbound DNS goes through hickory, so no NSS
# modules are needed at run time and the binary runs on `scratch`.
ENV RUSTFLAGS="-C target-feature=+crt-static" \
    CARGO_TERM_COLOR=never
WORKDIR /src

# Dependencies first, in a layer of their own: it is rebuilt only when
# Cargo.toml or Cargo.lock change. Every target the manifest names gets a
# placeholder source so cargo accepts it; they are removed afterwards.
COPY Cargo.toml Cargo.lock ./
COPY scripts/cargo-dummy-targets.sh /usr/local/bin/
RUN set -eu; \
    cargo-dummy-targets.sh > /tmp/placeholders; \
    cargo build --release --locked --target "$TARGET" --bins; \
    xargs rm -f < /tmp/placeholders

# Then the real source. Touching it makes cargo rebuild the crate even when
# the copied files are older than the dummy build.
COPY . .
RUN set -eu; \
    find src -name '*.rs' -exec touch {} +; \
    cargo build --release --locked --target "$TARGET" --bins; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/etc/xmlrpc-gateway; \
    for bin in xmlrpc-gateway demo-backend; do \
        cp "target/$TARGET/release/$bin" /rootfs/; \
        strip "/rootfs/$bin"; \
        ldd "/rootfs/$bin" 2>&1 | grep -qE 'not a dynamic executable|statically linked' \
            || { echo "$bin is dynamically linked"; exit 1; }; \
    done; \
    echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /rootfs/etc/passwd; \
    echo 'nonroot:x:65532:' > /rootfs/etc/group; \
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then \
        cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    fi

# ---- runtime: nothing but the binaries -------------------------------------
FROM scratch
COPY --from=build /rootfs/ /
# --- runtime settings (identical in Dockerfile and deploy/docker/Dockerfile.prebuilt; scripts/check-deploy.sh compares them) ---
USER 65532:65532
# The embedded default listens on loopback; a container must listen on all
# interfaces. An environment variable wins over a --config file.
ENV XMLRPC_GATEWAY__SERVER__LISTEN=0.0.0.0:8000
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/xmlrpc-gateway", "healthcheck"]
ENTRYPOINT ["/xmlrpc-gateway"]
# --- end runtime settings ---
