#!/usr/bin/env bash
# A throwaway Postgres server for the tests: a fresh cluster in a directory of its own, on a
# loopback port, no password (trust on 127.0.0.1 only), stopped and deleted by `stop`.
#   bash scripts/postgres.sh start DIR   prints `export MASTRA_TEST_POSTGRES_URL=postgres://...`
#   bash scripts/postgres.sh stop DIR    stops the server and deletes DIR
# Uses Debian's `postgresql` package (installed with apt-get when missing and running as root).
# The server refuses to run as root, so as root it runs as the `postgres` user.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

fail() {
  echo "scripts/postgres.sh: $1" >&2
  exit 1
}

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
start)
  if ! bin=$(bindir); then
    [ "$(id -u)" = 0 ] || fail "Postgres is not installed; install Debian's postgresql package (apt-get install postgresql)"
    echo "== apt-get install postgresql" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 \
      || fail "apt-get install postgresql failed (no access to the Debian archive?)"
    bin=$(bindir) || fail "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin"
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bin/initdb" -D "$dir/data" -U mastra -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || fail "initdb failed: $(tail -n 5 "$dir/initdb.log")"
  # fsync off by default: a test cluster is thrown away, durability is not what it tests
  # (bench/memory.sh sets MASTRA_PG_FSYNC=on to measure a durable server).
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${MASTRA_PG_FSYNC:-off} -c max_connections=200" start >&2 \
    || fail "the server did not start: $(tail -n 5 "$dir/server.log")"
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U mastra mastra_test \
    || fail "createdb failed"
  echo "$port" >"$dir/port"
  echo "export MASTRA_TEST_POSTGRES_URL=postgres://mastra@127.0.0.1:$port/mastra_test"
  ;;
stop)
  [ -d "$dir/data" ] || exit 0
  bin=$(bindir) || fail "no Postgres binaries to stop the server with"
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
