#!/usr/bin/env bash
# Load benchmark of `mastra serve` on loopback: the same cheap route with no auth, with a repeated
# HS256 token, with unique (pre-minted) HS256 tokens, and with RS256/ES256 tokens (repeated and
# unique) verified against a local JWKS. Fixed concurrency, alternating rounds; prints
# requests/s, p50/p99 and the ratio to the no-auth run of the same round.
#
# Usage: bench/load.sh [CASE...]     (default: every case; see README.md for the settings)
# Cases: noauth hs256-repeated hs256-unique rs256-repeated rs256-unique es256-repeated es256-unique
#        noauth-<alg>-<repeated|unique>      (no auth, but the requests of <alg>-<mode>: the baseline
#                                            its "auth CPU per request" is measured against)
#        agent-noauth agent-hs256-repeated   (GET /api/agents/weatherAgent instead of the cheap route)
#        jwks-ttl                            (JWKS fetches over 2+ minutes of load: one per TTL)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need wrk "apt-get install -y wrk"
need node "Node.js >= 18, for minting tokens and serving the JWKS"
need curl "apt-get install -y curl"
need taskset "util-linux"

ROUTE="${ROUTE:-/bench/ping}"
PORT="${PORT:-4381}"
JWKS_PORT="${JWKS_PORT:-4390}"
UNIQUE_DURATION="${UNIQUE_DURATION:-$DURATION}"
# Token pools: enough for UNIQUE_DURATION at the rates this machine reaches (a run that wraps
# around its pool is flagged; raise these for a faster machine or a longer run).
POOL_HS256="${POOL_HS256:-$(( $(seconds "$UNIQUE_DURATION") * 90000 ))}"
POOL_RS256="${POOL_RS256:-$(( $(seconds "$UNIQUE_DURATION") * 30000 ))}"
POOL_ES256="${POOL_ES256:-$(( $(seconds "$UNIQUE_DURATION") * 15000 ))}"

DEFAULT_CASES="noauth hs256-repeated rs256-repeated es256-repeated noauth-hs256-unique hs256-unique noauth-rs256-unique rs256-unique noauth-es256-unique es256-unique"
read -r -a CASES <<<"${*:-$DEFAULT_CASES}"

mastra_binary
mkdir -p "$WORK"

# --- tokens and keys -------------------------------------------------------------------------
mint_args=()
for c in "${CASES[@]}"; do
  case "$c" in
    hs256-unique | noauth-hs256-unique) mint_args+=(--hs256 "$POOL_HS256") ;;
    rs256-unique | noauth-rs256-unique) mint_args+=(--rs256 "$POOL_RS256") ;;
    es256-unique | noauth-es256-unique) mint_args+=(--es256 "$POOL_ES256") ;;
  esac
done
node "$BENCH_DIR/tools/mint.mjs" "$WORK/tokens" --secret "$SECRET" "${mint_args[@]}"

# --- configs ---------------------------------------------------------------------------------
CFG_NONE="$(ping_config "$WORK/noauth.toml" "$PORT" none)"
CFG_JWT="$(ping_config "$WORK/jwt.toml" "$PORT" jwt)"
CFG_JWKS="$(ping_config "$WORK/jwks.toml" "$PORT" jwks)"

JWKS_PID=""
jwks_up() { # jwks_up MAX_AGE
  [ -n "$JWKS_PID" ] && stop "$JWKS_PID"
  start_bg JWKS_PID "$WORK/jwks.log" taskset -c "$CLIENT_CPU" \
    node "$BENCH_DIR/tools/jwks-server.mjs" "$JWKS_PORT" "$WORK/tokens/jwks.json" "$1"
  wait_http "http://127.0.0.1:$JWKS_PORT/hits"
}
jwks_hits() { curl -s "http://127.0.0.1:$JWKS_PORT/hits" | sed 's/[^0-9]//g'; }

# --- one measured run ------------------------------------------------------------------------
RESULTS="$WORK/load-results.tsv"
: >"$RESULTS"

run_case() { # run_case CASE ROUND
  local c="$1" round="$2" cfg route="$ROUTE" alg="" mode="" dur="$DURATION"
  case "$c" in
    noauth) cfg="$CFG_NONE" ;;
    noauth-*-*) cfg="$CFG_NONE"; alg="${c#noauth-}"; mode="${alg#*-}"; alg="${alg%-*}" ;;
    agent-noauth) cfg="$CFG_NONE"; route="/api/agents/weatherAgent" ;;
    agent-hs256-repeated) cfg="$CFG_JWT"; route="/api/agents/weatherAgent"; alg=hs256; mode=repeated ;;
    hs256-*) cfg="$CFG_JWT"; alg=hs256; mode="${c#*-}" ;;
    rs256-* | es256-*) cfg="$CFG_JWKS"; alg="${c%%-*}"; mode="${c#*-}" ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
  [ "$mode" = unique ] && dur="$UNIQUE_DURATION"
  local url="http://127.0.0.1:$PORT$route" spid one="" hits0=0 hits1=0 line
  [ "$cfg" = "$CFG_JWKS" ] && hits0="$(jwks_hits)"
  start_bg spid "$WORK/server-$c.log" taskset -c "$SERVER_CPU" "$MASTRA" serve --config "$cfg"
  wait_http "http://127.0.0.1:$PORT/health"
  [ -n "$alg" ] && one="$(cat "$WORK/tokens/$alg-one.txt")"
  # Warm-up (untimed): connections, allocator, JWKS fetch, the repeated token's cache entry.
  if [ -n "$one" ]; then
    wrk_result -d"$WARMUP" -H "Authorization: Bearer $one" -s "$BENCH_DIR/wrk/report.lua" "$url" >/dev/null
  else
    wrk_result -d"$WARMUP" -s "$BENCH_DIR/wrk/report.lua" "$url" >/dev/null
  fi
  [ "$cfg" = "$CFG_JWKS" ] && hits1="$(jwks_hits)"
  local cpu0 cpu1
  cpu0="$(cpu_seconds "$spid")"
  case "$mode" in
    "") line="$(wrk_result -d"$dur" -s "$BENCH_DIR/wrk/report.lua" "$url")" ;;
    repeated) line="$(wrk_result -d"$dur" -H "Authorization: Bearer $one" -s "$BENCH_DIR/wrk/report.lua" "$url")" ;;
    unique)
      local pool
      case "$alg" in
        hs256) pool="$WORK/tokens/hs256-$POOL_HS256.txt" ;;
        rs256) pool="$WORK/tokens/rs256-$POOL_RS256.txt" ;;
        es256) pool="$WORK/tokens/es256-$POOL_ES256.txt" ;;
      esac
      line="$(wrk_result -d"$dur" -s "$BENCH_DIR/wrk/tokens.lua" "$url" -- "$pool")"
      ;;
  esac
  cpu1="$(cpu_seconds "$spid")"
  local hits2=0
  [ "$cfg" = "$CFG_JWKS" ] && hits2="$(jwks_hits)"
  stop "$spid"
  local cpu_us
  cpu_us="$(awk -v a="$cpu0" -v b="$cpu1" -v n="$(field "$line" requests)" 'BEGIN { printf "%.2f", (b - a) * 1e6 / n }')"
  local fetch_total=$(( hits2 - hits0 )) fetch_run=$(( hits2 - hits1 ))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$c" \
    "$(field "$line" rps)" "$(field "$line" p50_us)" "$(field "$line" p99_us)" \
    "$(field "$line" requests)" "$(field "$line" non2xx)" "$(field "$line" wraps)" \
    "$fetch_run" "$fetch_total" "$cpu_us" >>"$RESULTS"
  printf '  round %s %-22s %9.0f req/s  p50 %6s us  p99 %6s us  server CPU %6s us/req  non-2xx %s  wraps %s%s\n' "$round" "$c" \
    "$(field "$line" rps)" "$(field "$line" p50_us)" "$(field "$line" p99_us)" "$cpu_us" \
    "$(field "$line" non2xx)" "$(field "$line" wraps)" \
    "$([ "$cfg" = "$CFG_JWKS" ] && echo "  JWKS fetches: $fetch_run during the run, $fetch_total incl. start")"
}

# --- JWKS fetches over time: one per TTL whatever the load -----------------------------------
jwks_ttl() {
  local ttl=60 dur="${TTL_DURATION:-150s}" spid one line
  jwks_up "$ttl"
  local h0
  h0="$(jwks_hits)"
  start_bg spid "$WORK/server-jwks-ttl.log" taskset -c "$SERVER_CPU" "$MASTRA" serve --config "$CFG_JWKS"
  wait_http "http://127.0.0.1:$PORT/health"
  one="$(cat "$WORK/tokens/rs256-one.txt")"
  echo "  JWKS max-age=${ttl}s (the key set's minimum TTL); RS256 repeated token for $dur"
  line="$(wrk_result -d"$dur" -H "Authorization: Bearer $one" -s "$BENCH_DIR/wrk/report.lua" "http://127.0.0.1:$PORT$ROUTE")"
  local h1 req
  h1="$(jwks_hits)"
  req="$(field "$line" requests)"
  stop "$spid"
  printf '  %s requests in %s (%.0f req/s), non-2xx %s: %s JWKS fetches (expected 1 + one per %ss elapsed)\n' \
    "$req" "$dur" "$(field "$line" rps)" "$(field "$line" non2xx)" "$(( h1 - h0 ))" "$ttl"
  printf 'ttl\tjwks-ttl\t%s\t%s\t%s\t%s\t%s\t0\t%s\t%s\n' "$(field "$line" rps)" "$(field "$line" p50_us)" \
    "$(field "$line" p99_us)" "$req" "$(field "$line" non2xx)" "$(( h1 - h0 ))" "$(( h1 - h0 ))" >>"$RESULTS"
}

# --- run -------------------------------------------------------------------------------------
echo "# bench/load.sh $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
machine
echo "route: GET $ROUTE; unique-token runs: $UNIQUE_DURATION; results: $RESULTS"
jwks_up 600
ttl_wanted=0
for round in $(seq 1 "$ROUNDS"); do
  for c in "${CASES[@]}"; do
    if [ "$c" = jwks-ttl ]; then ttl_wanted=1; continue; fi
    run_case "$c" "$round"
  done
done
[ "$ttl_wanted" = 1 ] && jwks_ttl

# --- summary: mean over rounds, ratio to the no-auth mean of the same route ------------------
echo
echo "| case | requests/s (mean of $ROUNDS) | vs no auth | server CPU per request | auth CPU per request | p50 | p99 (worst) | JWKS fetches / 1,000 req |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
# "vs no auth": requests/s against the plain no-auth run of the same route. "auth CPU per
# request": the server's CPU time per request minus that of its baseline with the same requests
# (noauth-<case> when it ran, else the plain no-auth run).
awk -F'\t' '
  $1 != "ttl" { n[$2]++; rps[$2] += $3; p50[$2] += $4; if ($5 > p99[$2]) p99[$2] = $5;
    req[$2] += $6; bad[$2] += $7; wr[$2] += $8; fetch[$2] += $9; cpu[$2] += $11;
    if (!($2 in order)) { order[$2] = ++k; name[k] = $2 } }
  END {
    for (i = 1; i <= k; i++) {
      c = name[i]; m = rps[c] / n[c]; cu = cpu[c] / n[c];
      base = (c ~ /^agent-/) ? "agent-noauth" : "noauth";
      cbase = base;
      if (c ~ /^(hs|rs|es)256-/ && (("noauth-" c) in n)) cbase = "noauth-" c;
      ratio = "-"; acost = "-";
      if ((base in n) && c != base && c !~ /^noauth-/) ratio = sprintf("%.1f %%", 100 * m / (rps[base] / n[base]));
      if ((cbase in n) && c != cbase && c !~ /^noauth-/) acost = sprintf("%.2f us", cu - cpu[cbase] / n[cbase]);
      note = "";
      if (bad[c] > 0) note = note sprintf(" (%d non-2xx!)", bad[c]);
      if (wr[c] > 0 && c !~ /^noauth-/) note = note " (token pool wrapped!)";  # a no-auth baseline ignores tokens
      f = (c ~ /^(rs|es)256/) ? sprintf("%.4f", 1000 * fetch[c] / req[c]) : "-";
      printf "| %s%s | %.0f | %s | %.2f us | %s | %.2f ms | %.2f ms | %s |\n", c, note, m, ratio, cu, acost, p50[c] / n[c] / 1000, p99[c] / 1000, f
    }
  }' "$RESULTS"
