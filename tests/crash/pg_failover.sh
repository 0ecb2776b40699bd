#!/bin/sh
# Failover of the PostgreSQL backend under write load (issue 15): a primary cluster and a
# synchronous standby made from it with pg_basebackup (initdb / pg_ctl, started and stopped here,
# Unix sockets only, as the postgres user when run as root); a study made through the libpq
# multi-host URL naming both (target_session_attrs=read-write); two `ioheme serve` processes
# on that URL and concurrent API clients saving values through both (pg_failover_load.mjs).
# While they write, the primary's postmaster gets `kill -9` and the standby is promoted; the
# servers must find the new primary on their own (no restart) and keep saving. Then, on the
# promoted standby: every save a server acknowledged (HTTP 200) is there with its value and
# its audit row, nothing is stored that was not sent, each stored value is audited once, the
# audit chain verifies (`ioheme audit verify`), the command line reads the same values, and
# both servers saved after the promotion. A save answered 503 or cut off is retried by its
# client and not counted as acknowledged until a 200 comes.
#
# Two runs, each on a new pair of clusters:
#   streaming  the standby is streaming when the primary dies (commits in flight replicate)
#   lagging    the standby is stopped for a second first and started again after the kill, so
#              the primary dies holding commits the standby never received: a synchronous
#              primary acknowledges none of them (an asynchronous one acknowledges and loses
#              them: PG_FAILOVER_SYNC='' makes this run fail every time, the control)
#
# The standby runs with synchronous_standby_names = '' (set on it before it starts: a standby
# ignores the setting until promoted): with '*' the new primary, which has no standby of its
# own, would hold every commit until one attaches.
#
# Environment: IOHEME, IOHEME_SRC; KEEP_PG=1 keeps the folder (data directories, logs, the
# load's files; the clusters are stopped); PG_FAILOVER_SYNC (default '*') is the primary's
# synchronous_standby_names; PG_FAILOVER_RUNS (default "streaming lagging").
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
chmod 755 "$W"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fail() { echo "FAIL pg_failover${RUN:+ ($RUN)}: $*"; exit 1; }
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || fail "PostgreSQL's initdb not found (scripts/install-deps installs postgresql)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
RUN='' LOADPID=''
cleanup() {
    st=$?
    # the load and its servers (the load kills its servers on SIGTERM; the pid files are the
    # backstop), then every cluster; the killed primary's children, by the pids noted before
    # the kill (they exit on their own once they see the postmaster gone)
    [ -z "$LOADPID" ] || kill "$LOADPID" 2>/dev/null || true
    for f in "$W"/*/server-*.pid "$W"/*/primary.children; do
        [ -f "$f" ] || continue
        for p in $(cat "$f"); do
            case $(ps -o comm= -p "$p" 2>/dev/null) in ioheme|postgres) kill -9 "$p" 2>/dev/null || true;; esac
        done
    done
    for d in "$W"/*/d1 "$W"/*/d2; do
        [ ! -f "$d/postmaster.pid" ] || as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
    done
    if [ $st != 0 ] || [ -n "${KEEP_PG:-}" ]; then
        for l in "$W"/*/log/*.log "$W"/*/server-*.log; do
            [ -f "$l" ] || continue
            echo "--- $l (last lines)"
            tail -n 15 "$l"
        done
    fi
    if [ -n "${KEEP_PG:-}" ]; then echo "pg_failover: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
START=$(date +%s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-2026 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"

# one initdb, copied for every run's primary
mkdir "$W/template"
chmod 700 "$W/template"
[ "$(id -u)" != 0 ] || chown postgres "$W/template"
as_pg "$PGBIN/initdb" -D "$W/template" -A trust -U ioheme -E UTF8 --locale=C.UTF-8 >"$W/initdb.out" 2>&1 ||
    fail "initdb: $(cat "$W/initdb.out")"
# dynamic shared memory in the data directory, not /dev/shm: a killed primary leaves its
# segments behind, and they go with the directory
echo "dynamic_shared_memory_type = mmap" >>"$W/template/postgresql.conf"

stamp() { date +%s%3N >"$D/$1.tmp" && mv "$D/$1.tmp" "$D/$1"; }   # for the load (ms)

failover() {
    RUN=$1
    D=$W/$RUN
    mkdir "$D" "$D/d2" "$D/s1" "$D/s2" "$D/log"
    chmod 755 "$D"
    chmod 700 "$D/d2"
    [ "$(id -u)" != 0 ] || chown postgres "$D/d2" "$D/s1" "$D/s2" "$D/log"
    cp -a "$W/template" "$D/d1"
    P1="postgresql://ioheme@/postgres?host=$D/s1&port=5432"
    P2="postgresql://ioheme@/postgres?host=$D/s2&port=5433"
    # what a server is given: both nodes, whichever accepts writes
    URL="postgresql://ioheme@/study?host=$D/s1,$D/s2&port=5432,5433&target_session_attrs=read-write&connect_timeout=2"
    URL2="postgresql://ioheme@/study?host=$D/s2&port=5433"   # the promoted standby alone
    export IOHEME_KEY_FILE="$D/study.key"

    # 1. the primary, then the standby from a base backup of it, streaming synchronously
    cat >>"$D/d1/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$D/s1'
port = 5432
wal_level = replica
max_wal_senders = 4
synchronous_standby_names = '${PG_FAILOVER_SYNC-*}'
synchronous_commit = on
max_connections = 100
EOF
    as_pg "$PGBIN/pg_ctl" -D "$D/d1" -l "$D/log/primary.log" -w start >/dev/null || fail "primary: pg_ctl start"
    as_pg "$PGBIN/pg_basebackup" -D "$D/d2" -R -X stream -c fast \
        -d "host=$D/s1 port=5432 user=ioheme application_name=standby1" >"$D/basebackup.out" 2>&1 ||
        fail "pg_basebackup: $(cat "$D/basebackup.out")"
    cat >>"$D/d2/postgresql.auto.conf" <<EOF
unix_socket_directories = '$D/s2'
port = 5433
synchronous_standby_names = ''
EOF
    as_pg "$PGBIN/pg_ctl" -D "$D/d2" -l "$D/log/standby.log" -w start >/dev/null || fail "standby: pg_ctl start"
    want="streaming sync"
    [ "${PG_FAILOVER_SYNC-*}" != "" ] || want="streaming async"
    i=0
    until [ "$(psql "$P1" -At -c "SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = "$want" ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "the standby is not $want: $(psql "$P1" -At -c "TABLE pg_stat_replication")"
        sleep 0.1
    done
    [ "$(psql "$P2" -At -c "SELECT pg_is_in_recovery()")" = t ] || fail "the standby is not in recovery"

    # 2. the study, through the multi-host URL (it finds the primary)
    psql "$P1" -c "CREATE DATABASE study" || fail "createdb"
    "$IOHEME" init --db "$URL" --admin admin --synthetic >"$D/init.out" 2>&1 || fail "ioheme init: $(cat "$D/init.out")"
    echo 'coordinator-pass-2026' | "$IOHEME" user add coordinator --role coordinator --db "$URL" >"$D/user.out" 2>&1 ||
        fail "ioheme user add: $(cat "$D/user.out")"

    # 3. and 4. two servers under load (pg_failover_load.mjs); when it says "loading", the
    # primary's postmaster is killed and, a second later, the standby promoted
    primary=$(head -1 "$D/d1/postmaster.pid")
    FAILOVER_DIR=$D FAILOVER_URL=$URL node "$(dirname "$0")/pg_failover_load.mjs" &
    LOADPID=$!
    i=0
    while [ ! -f "$D/loading" ]; do
        kill -0 "$LOADPID" 2>/dev/null || { wait "$LOADPID" || true; LOADPID=; fail "the load ended before the failover"; }
        i=$((i + 1))
        [ $i -lt 300 ] || fail "no load after 30 s"
        sleep 0.1
    done
    if [ "$RUN" = lagging ]; then
        as_pg "$PGBIN/pg_ctl" -D "$D/d2" -m immediate stop >/dev/null || fail "standby: pg_ctl stop"
        sleep 1
    fi
    # the postmaster's children (backends, walsender, ...): they die when they see it gone
    ps -o pid= --ppid "$primary" >"$D/primary.children" 2>/dev/null || true
    kill -9 "$primary"
    stamp killed
    if [ "$RUN" = lagging ]; then
        as_pg "$PGBIN/pg_ctl" -D "$D/d2" -l "$D/log/standby.log" -w start >/dev/null || fail "standby: pg_ctl start again"
    fi
    sleep 1
    stamp promoting
    as_pg "$PGBIN/pg_ctl" -D "$D/d2" -w promote >/dev/null || fail "pg_ctl promote"
    stamp promoted
    [ "$(psql "$P2" -At -c "SELECT pg_is_in_recovery()")" = f ] || fail "the standby was not promoted"
    set +e
    wait "$LOADPID"
    loadst=$?
    set -e
    LOADPID=
    # a failed load (a server that did not come back, say) still has its saves checked below
    [ -f "$D/acked.tsv" ] && [ -f "$D/sent.tsv" ] || fail "the load wrote no results (exit $loadst; see above)"

    # 5. on the promoted standby: every acknowledged save with its value and its audit row,
    # nothing stored that was not sent, each stored value audited once, the chain verifies
    psql "$URL2" >"$D/check.out" <<EOF || fail "reading the promoted standby: $(cat "$D/check.out")"
CREATE TEMP TABLE acked(rec text, event text, instance int, field text, value text, server text, at_ms bigint);
CREATE TEMP TABLE sent(rec text, event text, instance int, field text, value text);
\copy acked FROM '$D/acked.tsv'
\copy sent FROM '$D/sent.tsv'
\pset tuples_only on
\pset format unaligned
\pset fieldsep ' '
SELECT 'acked', count(*) FROM acked;
SELECT 'lost', count(*) FROM acked a WHERE NOT EXISTS (
    SELECT 1 FROM value v JOIN record r ON r.id = v.record_id
    WHERE r.study_id = a.rec AND v.event = a.event AND v.instance = a.instance
      AND v.field = a.field AND v.code = '' AND v.value = a.value);
SELECT 'unsent', count(*) FROM value v JOIN record r ON r.id = v.record_id
    WHERE r.study_id IN (SELECT rec FROM sent) AND (v.event, v.field) IN (SELECT event, field FROM sent)
      AND NOT EXISTS (SELECT 1 FROM sent s WHERE s.rec = r.study_id AND s.event = v.event
                      AND s.instance = v.instance AND s.field = v.field AND s.value = v.value);
SELECT 'stored', count(*) FROM value v JOIN record r ON r.id = v.record_id
    WHERE (r.study_id, v.event, v.field) IN (SELECT rec, event, field FROM sent);
SELECT 'unaudited', count(*) FROM acked a WHERE NOT EXISTS (
    SELECT 1 FROM audit x WHERE x.action = 'update' AND x.record = a.rec AND x.event = a.event
      AND x.instance = a.instance AND x.field = a.field AND x.new_value = a.value);
SELECT 'audited', count(*) FROM audit x
    WHERE (x.record, x.event, x.field) IN (SELECT rec, event, field FROM sent);
EOF
    get() { awk -v k="$1" '$1 == k { print $2 }' "$D/check.out"; }
    acked=$(get acked) lost=$(get lost) unsent=$(get unsent) stored=$(get stored)
    unaudited=$(get unaudited) audited=$(get audited)
    [ -n "$acked" ] && [ -n "$audited" ] || fail "the check printed nothing: $(cat "$D/check.out")"
    [ "$acked" -gt 0 ] || fail "no save was acknowledged"
    [ "$lost" = 0 ] || fail "$lost of $acked acknowledged saves are missing or hold another value on the promoted standby"
    [ "$unsent" = 0 ] || fail "$unsent stored values were never sent"
    [ "$unaudited" = 0 ] || fail "$unaudited acknowledged saves have no audit row on the promoted standby"
    [ "$audited" = "$stored" ] || fail "$stored values stored but $audited audit rows for them (each value is written once)"
    [ $loadst = 0 ] || fail "the load failed (exit $loadst; see above); its $acked acknowledged saves are all there"
    "$IOHEME" audit verify --db "$URL2" >"$D/verify.out" 2>&1 || fail "ioheme audit verify on the promoted standby: $(cat "$D/verify.out")"
    # the command line, through the multi-host URL, reads the same: every acknowledged value of
    # one record (of its first 256 instances: `ioheme show` lists no more of a repeating form)
    rec=$(head -1 "$D/acked.tsv" | cut -f1)
    "$IOHEME" show "$rec" --db "$URL" --json >"$D/show.out" 2>"$D/show.err" || fail "ioheme show $rec: $(cat "$D/show.err")"
    node - "$D/show.out" "$D/acked.tsv" "$rec" <<'JS' || fail "ioheme show $rec differs from what was acknowledged"
const fs = require('node:fs');
const [show, acked, rec] = process.argv.slice(2);
const seen = new Map();
for (const e of JSON.parse(fs.readFileSync(show, 'utf8')).events)
    for (const f of e.forms)
        for (const [k, v] of Object.entries(f.values)) seen.set(`${e.event}|${f.instance}|${k}`, v);
let n = 0, bad = 0;
for (const line of fs.readFileSync(acked, 'utf8').split('\n')) {
    const [r, ev, inst, field, value] = line.split('\t');
    if (r !== rec || Number(inst) > 256) continue;
    n++;
    if (seen.get(`${ev}|${inst}|${field}`) !== value) bad++;
}
if (!n || bad) { console.log(`${rec}: ${n} acknowledged, ${bad} not shown with their value`); process.exit(1); }
JS
    # the load's own summary: saves after the promotion on both servers (it checked them)
    echo "pg_failover ($RUN): acknowledged $acked saves, lost 0 ($stored stored, each audited once); $(cat "$D/load.txt")"
    # this run's clusters are done with: stop them (the old primary's postmaster is gone)
    as_pg "$PGBIN/pg_ctl" -D "$D/d2" -m immediate stop >/dev/null 2>&1 || true
    RUN=
}

for run in ${PG_FAILOVER_RUNS:-streaming lagging}; do
    case $run in streaming|lagging) failover "$run" ;; *) fail "unknown run $run" ;; esac
done
echo "pg_failover: ok — every acknowledged save survived the failover, lost 0; $(($(date +%s) - START)) s"
