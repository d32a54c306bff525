#!/usr/bin/env bash
# Where a loaded server's CPU goes, per request: the auth pipeline (`Auth::decide`, steps 1-8
# of the auth layer in ARCHITECTURE.md, inclusive) against the signature check inside it (aws-lc-rs
# HMAC or public-key verify, with the base64url decode of the signature:
# `jwt::verify_signature_prepared`, inclusive; the HMAC is inlined there), from
# `perf record --call-graph dwarf` samples of the server while wrk drives it, and the server's CPU
# time per request from /proc over the same window.
#
# Why: "auth CPU per request" in load.sh is a difference between two runs at different request
# rates, and a slow server pays costs a fast one does not: a response written to an idle wrk
# wakes it on the other vCPU, and the slower the server, the fewer responses share a wake-up
# (kernel time inside `writev`, not auth work; see BENCHMARKS.md). Sampling attributes the
# server's own time to the code that spent it, in the same run.
#
# Usage: bench/profile-auth.sh [CASE...]   CASE: <hs256|rs256|es256>-<unique|repeated>
#        (default: hs256-unique rs256-unique es256-unique hs256-repeated)
# Needs perf (linux-perf) besides what load.sh needs. Sampling costs the server some speed; the
# shares, not the request rate, are the result.
#
# The server is built with `--features mastra-cli/profiling` into target/profiling/ (see
# mastra_profiling_binary in lib.sh): without the feature both functions may be inlined and their
# shares lost. A MASTRA_BIN given instead must be built with that feature too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need wrk "apt-get install -y wrk"
need node "Node.js >= 18, for minting tokens and serving the JWKS"
need perf "apt-get install -y linux-perf"
need taskset "util-linux"

PORT="${PORT:-4381}"
JWKS_PORT="${JWKS_PORT:-4390}"
FREQ="${FREQ:-499}"
read -r -a CASES <<<"${*:-hs256-unique rs256-unique es256-unique hs256-repeated}"

mastra_profiling_binary
mkdir -p "$WORK"
# The same pool settings as load.sh (a pool smaller than the run's requests wraps: re-sent tokens
# are second sightings, verified again and then cached; the script warns when it happens).
pool_hs="${POOL_HS256:-$(( $(seconds "$DURATION") * 90000 ))}"
pool_rs="${POOL_RS256:-$(( $(seconds "$DURATION") * 30000 ))}"
pool_es="${POOL_ES256:-$(( $(seconds "$DURATION") * 15000 ))}"
node "$BENCH_DIR/tools/mint.mjs" "$WORK/tokens" --secret "$SECRET" \
  --hs256 "$pool_hs" --rs256 "$pool_rs" --es256 "$pool_es"

CFG_JWT="$(ping_config "$WORK/profile-jwt.toml" "$PORT" jwt)"
CFG_JWKS="$(ping_config "$WORK/profile-jwks.toml" "$PORT" jwks)"
JWKS_PID=""

# share DATA PATTERN: the largest inclusive share (%) of a symbol matching PATTERN.
share() {
  perf report -i "$1" --children --sort symbol --stdio 2>/dev/null |
    { grep -E "^ +[0-9.]+% +[0-9.]+% +\[.\] .*($2)" || true; } | awk '{ sub("%", "", $1); if ($1 > m) m = $1 } END { printf "%.2f", m + 0 }'
}

echo "# bench/profile-auth.sh $(date -u +%Y-%m-%dT%H:%MZ), $(cd "$REPO_DIR" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
machine | sed -n 1,2p
echo "server on CPU $SERVER_CPU, wrk -t1 -c$CONNECTIONS -d$DURATION on CPU $CLIENT_CPU, perf -F $FREQ --call-graph dwarf"
rows=()
for c in "${CASES[@]}"; do
  alg="${c%%-*}" mode="${c#*-}"
  case "$alg" in
    hs256) cfg="$CFG_JWT"; pool="$WORK/tokens/hs256-$pool_hs.txt" ;;
    rs256) cfg="$CFG_JWKS"; pool="$WORK/tokens/rs256-$pool_rs.txt" ;;
    es256) cfg="$CFG_JWKS"; pool="$WORK/tokens/es256-$pool_es.txt" ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
  if [ "$cfg" = "$CFG_JWKS" ] && [ -z "$JWKS_PID" ]; then
    start_bg JWKS_PID "$WORK/jwks.log" taskset -c "$CLIENT_CPU" \
      node "$BENCH_DIR/tools/jwks-server.mjs" "$JWKS_PORT" "$WORK/tokens/jwks.json" 600
    wait_http "http://127.0.0.1:$JWKS_PORT/hits"
  fi
  start_bg spid "$WORK/profile-$c.log" taskset -c "$SERVER_CPU" "$MASTRA" serve --config "$cfg"
  wait_http "http://127.0.0.1:$PORT/health"
  url="http://127.0.0.1:$PORT/bench/ping"
  one="$(cat "$WORK/tokens/$alg-one.txt")"
  wrk_result -d"$WARMUP" -H "Authorization: Bearer $one" -s "$BENCH_DIR/wrk/report.lua" "$url" >/dev/null
  data="$WORK/profile-$c.perf"
  taskset -c "$CLIENT_CPU" perf record -q --call-graph dwarf,16384 -F "$FREQ" -p "$spid" -o "$data" \
    -- sleep "$(seconds "$DURATION")" >/dev/null 2>&1 &
  perf_pid=$!
  cpu0="$(cpu_seconds "$spid")"
  if [ "$mode" = unique ]; then
    line="$(wrk_result -d"$DURATION" -s "$BENCH_DIR/wrk/tokens.lua" "$url" -- "$pool")"
  else
    line="$(wrk_result -d"$DURATION" -H "Authorization: Bearer $one" -s "$BENCH_DIR/wrk/report.lua" "$url")"
  fi
  cpu1="$(cpu_seconds "$spid")"
  wait "$perf_pid" || true
  stop "$spid"
  [ "$(field "$line" non2xx)" = 0 ] || { echo "$c: non-2xx answers" >&2; exit 1; }
  [ "$(field "$line" wraps)" = 0 ] || echo "$c: token pool wrapped (re-sent tokens hit the cache)" >&2
  auth="$(share "$data" 'mastra_auth::layer::Auth::decide')"
  crypto="$(share "$data" 'mastra_auth::jwt::verify_signature_prepared')"
  wake="$(share "$data" '__GI___writev|__writev')"
  rows+=("$(awk -v c="$c" -v q="$(field "$line" requests)" -v c0="$cpu0" -v c1="$cpu1" -v a="$auth" -v k="$crypto" -v w="$wake" 'BEGIN {
    cpu = (c1 - c0) * 1e6 / q
    printf "| %s | %.0f | %.2f µs | %.1f %% = %.2f µs | %.1f %% = %.2f µs | %s | %.1f %% |", c, q / 1, cpu, a, a * cpu / 100, k, k * cpu / 100,
      (k > 0 ? sprintf("%.2fx", a / k) : "-"), w }')")
  echo "  $c done: ${rows[-1]}"
done
echo
echo "| case | requests | server CPU per request | auth pipeline (decide, inclusive) | signature check inside it (verify_signature_prepared) | auth / signature | writev (kernel send + waking wrk) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
