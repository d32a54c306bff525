#!/usr/bin/env bash
# The test command (README, .ci/run): installs the npm packages the tests drive when they are
# missing, then runs the whole Rust test suite. Extra arguments go to `cargo test`.
#   tests/js-client      the official @mastra/client-js + Node 22 (crates/cli/tests/js_client.rs)
#   tests/oidc-provider  a certified OpenID provider for the OIDC end-to-end tests (if present)
# The npm registry is needed only the first time (or after a package-lock.json change).
set -euo pipefail
cd "$(dirname "$0")/.."

for dir in tests/js-client tests/oidc-provider; do
  [ -f "$dir/package-lock.json" ] || continue
  # Re-install when node_modules is missing or older than the lock file.
  if [ ! -f "$dir/node_modules/.package-lock.json" ] \
    || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "== npm ci --prefix $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

echo "== cargo test --workspace --locked $*"
exec cargo test --workspace --locked "$@"
