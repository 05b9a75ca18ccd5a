#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: `start DIR` initialises DIR (if new),
# starts the server on a free loopback port and prints its libpq connection string
# (keyword form, so a test can append " dbname=..."); `stop DIR`
# stops it. initdb refuses to run as root, so as root the cluster belongs to the
# 'postgres' user that Debian's package creates.
set -euo pipefail
cmd=${1:?usage: pg-test-cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: pg-test-cluster.sh start|stop DIR}")
bin=/usr/lib/postgresql/15/bin
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
case "$cmd" in
  start)
    [ -x "$bin/initdb" ] || { echo "pg-test-cluster: $bin/initdb missing; run scripts/install-deps.sh" >&2; exit 1; }
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb -D '$dir/data' -A trust -U postgres --no-sync >'$dir/initdb.log' 2>&1"
    fi
    as_owner "$bin/pg_ctl -D '$dir/data' -m immediate stop >/dev/null 2>&1" || true
    # A free loopback port: one nothing answers on.
    for _ in $(seq 1 100); do
      port=$((20000 + RANDOM % 40000))
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    as_owner "$bin/pg_ctl -D '$dir/data' -l '$dir/server.log' -w -t 60 -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
    echo "host=127.0.0.1 port=$port user=postgres dbname=postgres"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl -D '$dir/data' -m fast -w stop >/dev/null 2>&1" || true
    ;;
  *) echo "usage: pg-test-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
