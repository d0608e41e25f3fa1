# Sourced by the shell scripts that drive an outside tool (tests/compose/run.sh,
# scripts/check-deploy.sh). The one rule for a missing tool, the same as the
# Rust tests' `needed` in tests/common/mod.rs:
#
#   - present: go on;
#   - missing and CI=true (exactly): fail the run, naming the package
#     (CI must run every test; scripts/install-test-deps.sh installs them);
#   - missing otherwise: print "SKIPPED: <tool> missing (install <package>)"
#     on stderr and skip what needs it.
#
# Being root changes nothing.
#
#   need TOOL PACKAGE [COMMAND...]
#
# COMMAND (default: `command -v TOOL`) decides whether TOOL is present; its
# output is discarded. Returns 0 when present, 1 when the caller is to skip;
# exits 1 under CI=true.
need() {
  local tool=$1 package=$2
  shift 2
  if [ $# -eq 0 ]; then
    set -- command -v "$tool"
  fi
  if "$@" >/dev/null 2>&1; then
    return 0
  fi
  if [ "${CI:-}" = true ]; then
    echo "$tool missing and CI=true: install $package (scripts/install-test-deps.sh installs every tool the tests use)" >&2
    exit 1
  fi
  echo "SKIPPED: $tool missing (install $package)" >&2
  return 1
}
