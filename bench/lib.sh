# Shared helpers of bench/load.sh and bench/vs-mastra-node.sh (sourced, not run).
# shellcheck shell=bash

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"

DURATION="${DURATION:-10s}"         # wrk -d per measured run
WARMUP="${WARMUP:-2s}"              # wrk -d of the untimed warm-up before each run
CONNECTIONS="${CONNECTIONS:-64}"    # wrk -c (fixed concurrency)
ROUNDS="${ROUNDS:-2}"               # alternating rounds
SERVER_CPU="${SERVER_CPU:-0}"       # taskset -c for the server under test
CLIENT_CPU="${CLIENT_CPU:-1}"       # taskset -c for wrk (and the JWKS server)
WORK="${WORK:-/tmp/mastra-bench}"   # keys, tokens, configs, logs (outside the repo)
SECRET="${SECRET:-bench-secret-0123456789abcdef0123456789abcdef}"
ISS="https://issuer.bench.test/"
AUD="api://bench"

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
trap cleanup EXIT INT TERM

need() {
  command -v "$1" >/dev/null || { echo "missing: $1 ($2)" >&2; exit 2; }
}

seconds() { # 10s -> 10, 2m -> 120
  local d="$1"
  case "$d" in
    *ms) echo 1 ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *s) echo "${d%s}" ;;
    *) echo "$d" ;;
  esac
}

# wait_http URL [TRIES]: until the URL answers at all (any status).
wait_http() {
  local i
  for i in $(seq 1 "${2:-200}"); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.05
  done
  echo "no answer from $1" >&2
  return 1
}

# start_bg PIDVAR LOG CMD...: starts CMD in the background, remembers its pid for cleanup.
start_bg() {
  local var="$1" log="$2"
  shift 2
  "$@" >"$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "$var" '%s' "$pid"
}

# stop PID: stops one process started by start_bg.
stop() {
  local pid="$1" p keep=()
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# wrk_result ARGS...: runs wrk pinned to CLIENT_CPU with --latency, prints its RESULT line.
wrk_result() {
  local out
  out="$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" --latency --timeout 10s "$@" 2>&1)" || {
    echo "wrk failed: $out" >&2
    return 1
  }
  grep '^RESULT ' <<<"$out" | tail -1
}

# cpu_seconds PID: CPU time (user + system, all threads, also ended ones) the process has used.
# Dividing its growth over a run by the requests served gives the server's cost per request
# whether or not the server was the bottleneck (wrk's Lua scripts can be the limit).
cpu_seconds() {
  awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / tck }' "/proc/$1/stat"
}

# field LINE KEY: the value of KEY=... in a RESULT line.
field() {
  tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

# machine: one paragraph about where the numbers come from.
machine() {
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
  echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "server pinned to CPU $SERVER_CPU, wrk to CPU $CLIENT_CPU; wrk -t1 -c$CONNECTIONS -d$DURATION (warm-up $WARMUP), $ROUNDS alternating rounds"
}

# ping_config FILE PORT AUTH [ROUTE_EXTRA]: writes a mastra.toml to FILE (and prints FILE) that
# serves the cheap custom route `GET /bench/ping` on 127.0.0.1:PORT, request logs off, with AUTH
# one of none | jwt | jwks (the JWKS at 127.0.0.1:$JWKS_PORT); ROUTE_EXTRA is appended to the
# route (e.g. `requires_auth = false`).
ping_config() {
  local f="$1" port="$2" auth
  case "$3" in
    none) auth='provider = "none"' ;;
    jwt) auth="provider = \"jwt\"

[auth.jwt]
secret = \"$SECRET\"" ;;
    jwks) auth="provider = \"jwks\"

[auth.jwks]
jwks_uri = \"http://127.0.0.1:$JWKS_PORT/jwks.json\"
issuer = \"$ISS\"
audience = \"$AUD\"
allow_insecure_http = true" ;;
    *) echo "ping_config: unknown auth $3" >&2; return 2 ;;
  esac
  cat >"$f" <<CFG
[server]
host = "127.0.0.1"
port = $port
request_logs = false

[auth]
$auth

[[api_routes]]
method = "GET"
path = "/bench/ping"
json = { ok = true }
${4:-}
CFG
  echo "$f"
}

# mastra_binary: sets MASTRA to $MASTRA_BIN, or builds target/release/mastra and uses that.
mastra_binary() {
  MASTRA="${MASTRA_BIN:-$REPO_DIR/target/release/mastra}"
  if [ -z "${MASTRA_BIN:-}" ]; then
    (cd "$REPO_DIR" && cargo build --release -q -p mastra-cli)
  fi
}

# mastra_profiling_binary: sets MASTRA to $MASTRA_BIN, or builds the `mastra` binary with the
# `profiling` feature (the auth hot paths kept out of line so perf can attribute their time) into
# target/profiling/release/mastra and uses that. Its own target directory keeps it apart from
# target/release/mastra, which the other scripts measure.
mastra_profiling_binary() {
  MASTRA="${MASTRA_BIN:-$REPO_DIR/target/profiling/release/mastra}"
  if [ -z "${MASTRA_BIN:-}" ]; then
    (cd "$REPO_DIR" && cargo build --release -q -p mastra-cli --features mastra-cli/profiling \
      --target-dir "$REPO_DIR/target/profiling")
  fi
}
