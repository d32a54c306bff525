#!/usr/bin/env bash
# Paired A/B load run: a server with auth and a server without it run *at the same time*, on the
# same pinned core, each driven by its own wrk with the same requests. Whatever else the machine
# does during a run (other tenants of the host, frequency changes) hits both servers alike, so
# their ratio is far steadier than that of two runs made one after the other (bench/load.sh),
# which on a shared VM swing from one run to the next by as much as the difference being measured
# (see BENCHMARKS.md, Machine).
#
# Usage: bench/paired.sh [hs256-repeated|rs256-repeated|es256-repeated|public]...
#        (default: hs256-repeated; `public`: the jwt server with the route declared
#        `requires_auth = false`, i.e. what the auth layer costs a request it lets through unread)
#
# Both servers get the same CPU; the scheduler shares it fairly when both are saturated, so the
# requests/s ratio is the inverse ratio of their CPU costs per request. Both are also printed:
# CPU time per request from /proc (user + system, as in load.sh), and the ratio of the two.
#
# B_BIN=<mastra binary>: an A/B of two builds instead. The second server is then that binary with
# the same auth config as the first (e.g. B_BIN=/tmp/mastra-before bench/paired.sh rs256-repeated
# for a change's effect: ratios below 100 % mean the current build costs more per request).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need wrk "apt-get install -y wrk"
need node "Node.js >= 18, for minting tokens and serving the JWKS"
need curl "apt-get install -y curl"
need taskset "util-linux"

PORT_AUTH="${PORT_AUTH:-4381}"
PORT_NONE="${PORT_NONE:-4382}"
JWKS_PORT="${JWKS_PORT:-4390}"
ROUNDS="${ROUNDS:-5}"
B_BIN="${B_BIN:-}"
read -r -a CASES <<<"${*:-hs256-repeated}"

mastra_binary
mkdir -p "$WORK"
node "$BENCH_DIR/tools/mint.mjs" "$WORK/tokens" --secret "$SECRET"

CFG_NONE="$(ping_config "$WORK/paired-noauth.toml" "$PORT_NONE" none)"
# case_config CASE PORT: writes (and prints) the auth server's config of CASE, listening on PORT.
case_config() {
  case "$1" in
    hs256-repeated) ping_config "$WORK/paired-jwt-$2.toml" "$2" jwt ;;
    public) ping_config "$WORK/paired-jwt-public-$2.toml" "$2" jwt 'requires_auth = false' ;;
    rs256-repeated | es256-repeated) ping_config "$WORK/paired-jwks-$2.toml" "$2" jwks ;;
  esac
}
if [ -n "$B_BIN" ]; then
  [ -x "$B_BIN" ] || { echo "B_BIN=$B_BIN is not an executable" >&2; exit 2; }
  A_NAME="this build" B_NAME="B_BIN"
else
  A_NAME="auth" B_NAME="no auth"
fi

JWKS_PID=""
jwks_up() {
  [ -n "$JWKS_PID" ] && return 0
  start_bg JWKS_PID "$WORK/jwks.log" taskset -c "$CLIENT_CPU" \
    node "$BENCH_DIR/tools/jwks-server.mjs" "$JWKS_PORT" "$WORK/tokens/jwks.json" 600
  wait_http "http://127.0.0.1:$JWKS_PORT/hits"
}

half=$(( CONNECTIONS / 2 ))
# load URL TOKEN DURATION -> RESULT line (wrk on CLIENT_CPU with half the connections)
load() {
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$half" -d"$3" --latency --timeout 10s \
    -H "Authorization: Bearer $2" -s "$BENCH_DIR/wrk/report.lua" "$1" 2>&1 | grep '^RESULT ' | tail -1
}

echo "# bench/paired.sh $(date -u +%Y-%m-%dT%H:%MZ), $(cd "$REPO_DIR" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
machine | sed -n 1,2p
echo "both servers on CPU $SERVER_CPU at once, two wrk -t1 -c$half -d$DURATION on CPU $CLIENT_CPU (warm-up $WARMUP), $ROUNDS rounds"
if [ -n "$B_BIN" ]; then
  echo "A/B of two builds with the same auth config: $MASTRA against B_BIN=$B_BIN"
else
  echo "route: GET /bench/ping; the no-auth server gets the same Authorization header and ignores it"
fi

summary=()
for c in "${CASES[@]}"; do
  case "$c" in
    hs256-repeated | public) alg=hs256 ;;
    rs256-repeated | es256-repeated) alg="${c%%-*}"; jwks_up ;;
    *) echo "unknown case $c (paired runs: <hs256|rs256|es256>-repeated, public)" >&2; exit 2 ;;
  esac
  cfg="$(case_config "$c" "$PORT_AUTH")"
  # The second server: B_BIN with the same auth config on its own port, or a server without auth.
  if [ -n "$B_BIN" ]; then
    second=("$B_BIN" serve --config "$(case_config "$c" "$PORT_NONE")")
  else
    second=("$MASTRA" serve --config "$CFG_NONE")
  fi
  token="$(cat "$WORK/tokens/$alg-one.txt")"
  ratios=() cpu_ratios=()
  for round in $(seq 1 "$ROUNDS"); do
    start_bg pa "$WORK/paired-$c-auth.log" taskset -c "$SERVER_CPU" "$MASTRA" serve --config "$cfg"
    start_bg pn "$WORK/paired-$c-second.log" taskset -c "$SERVER_CPU" "${second[@]}"
    wait_http "http://127.0.0.1:$PORT_AUTH/health"
    wait_http "http://127.0.0.1:$PORT_NONE/health"
    ua="http://127.0.0.1:$PORT_AUTH/bench/ping" un="http://127.0.0.1:$PORT_NONE/bench/ping"
    load "$ua" "$token" "$WARMUP" >/dev/null & w1=$!
    load "$un" "$token" "$WARMUP" >/dev/null & w2=$!
    wait "$w1" "$w2"
    ca0="$(cpu_seconds "$pa")" cn0="$(cpu_seconds "$pn")"
    load "$ua" "$token" "$DURATION" >"$WORK/paired-a.txt" & w1=$!
    load "$un" "$token" "$DURATION" >"$WORK/paired-n.txt" & w2=$!
    wait "$w1" "$w2"
    ca1="$(cpu_seconds "$pa")" cn1="$(cpu_seconds "$pn")"
    stop "$pa"; stop "$pn"
    la="$(cat "$WORK/paired-a.txt")" ln="$(cat "$WORK/paired-n.txt")"
    if [ "$(field "$la" non2xx)" != 0 ] || [ "$(field "$ln" non2xx)" != 0 ]; then
      echo "non-2xx answers: $A_NAME $(field "$la" non2xx), $B_NAME $(field "$ln" non2xx)" >&2
      exit 1
    fi
    ra="$(field "$la" rps)" rn="$(field "$ln" rps)"
    qa="$(field "$la" requests)" qn="$(field "$ln" requests)"
    read -r cpa cpn ratio cratio < <(awk -v a0="$ca0" -v a1="$ca1" -v n0="$cn0" -v n1="$cn1" \
      -v qa="$qa" -v qn="$qn" -v ra="$ra" -v rn="$rn" 'BEGIN {
        cpa = (a1 - a0) * 1e6 / qa; cpn = (n1 - n0) * 1e6 / qn
        printf "%.2f %.2f %.4f %.4f\n", cpa, cpn, ra / rn, cpn / cpa }')
    ratios+=("$ratio") cpu_ratios+=("$cratio")
    printf '  round %s %-16s %s %8.0f req/s %6s us/req | %s %8.0f req/s %6s us/req | req/s ratio %5.1f %%  CPU ratio %5.1f %%\n' \
      "$round" "$c" "$A_NAME" "$ra" "$cpa" "$B_NAME" "$rn" "$cpn" "$(awk -v r="$ratio" 'BEGIN{print r*100}')" "$(awk -v r="$cratio" 'BEGIN{print r*100}')"
  done
  stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 * 100; s += $1 * 100 }
    END { printf "mean %.1f %%, median %.1f %%, range %.1f-%.1f %%", s / NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'; }
  summary+=("| $c | $(stats "${ratios[@]}") | $(stats "${cpu_ratios[@]}") |")
done

echo
echo "| case | requests/s $A_NAME / $B_NAME (same time, same core) | $B_NAME CPU per request / $A_NAME CPU per request |"
echo "| --- | --- | --- |"
printf '%s\n' "${summary[@]}"
