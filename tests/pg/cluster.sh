#!/bin/sh
# A throwaway PostgreSQL cluster for the tests that run against the PostgreSQL backend (issue 15):
#   cluster.sh start DIR   initdb into DIR/data (as the postgres user when run as root: PostgreSQL
#                          refuses root), pg_ctl start listening on the Unix socket DIR/sock only
#                          (no TCP port), trust authentication for the role ioheme; writes
#                          DIR/url, a URL with %s where a database name goes. fsync is off (the
#                          tests need no durability); IOHEME_PG_FSYNC=on starts a durable cluster
#                          (fsync=on, synchronous_commit=on), as bench/pg/run does.
#   cluster.sh createdb DIR NAME   a fresh, empty database NAME; prints its URL.
#   cluster.sh stop DIR    stops the cluster (immediate) and removes DIR.
# ctest runs start before and stop after every test that needs it (the pg fixture).
set -eu
cmd=${1:?usage: cluster.sh start|createdb|stop DIR [NAME]}
D=${2:?usage: cluster.sh start|createdb|stop DIR [NAME]}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] ||
    { echo "cluster.sh: PostgreSQL's initdb not found (scripts/install-deps installs postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
    case ${IOHEME_PG_FSYNC:-off} in
    on) durability="-c fsync=on -c synchronous_commit=on" ;;
    off) durability="-c fsync=off" ;;
    *) echo "cluster.sh: IOHEME_PG_FSYNC is on or off" >&2; exit 2 ;;
    esac
    [ ! -e "$D/data" ] || as_pg "$PGBIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$D"
    mkdir -p "$D/data" "$D/sock"
    chmod 755 "$D"
    [ "$(id -u)" != 0 ] || chown postgres "$D/data" "$D/sock"
    as_pg "$PGBIN/initdb" -D "$D/data" -A trust -U ioheme -E UTF8 --locale=C.UTF-8 >"$D/initdb.log" 2>&1 ||
        { cat "$D/initdb.log" >&2; exit 1; }
    # dynamic shared memory in the data directory (pg_dynshmem), not /dev/shm: an immediate stop
    # leaves its segments behind, and they go with the directory
    as_pg "$PGBIN/pg_ctl" -D "$D/data" -o "-k $D/sock -c listen_addresses='' -c max_connections=300 -c dynamic_shared_memory_type=mmap $durability" \
        -l "$D/data/log" -w start >/dev/null || { cat "$D/data/log" >&2; exit 1; }
    echo "postgresql://ioheme@/%s?host=$D/sock" >"$D/url"
    echo "cluster.sh: PostgreSQL running on $D/sock"
    ;;
createdb)
    NAME=${3:?usage: cluster.sh createdb DIR NAME}
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "postgresql://ioheme@/postgres?host=$D/sock" \
        -c "DROP DATABASE IF EXISTS \"$NAME\" WITH (FORCE)" -c "CREATE DATABASE \"$NAME\"" >&2
    sed "s/%s/$NAME/" "$D/url"
    ;;
stop)
    [ ! -d "$D/data" ] || as_pg "$PGBIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$D"
    ;;
*) echo "cluster.sh: unknown command $cmd" >&2; exit 2 ;;
esac
