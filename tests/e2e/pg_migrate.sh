#!/bin/sh
# `ioheme migrate` (issue 15, "Moving a study"): a populated study into a throwaway PostgreSQL
# cluster (initdb / pg_ctl, started and stopped here, on a Unix socket only) and back into a new
# SQLite file. Checked with psql and python's sqlite3: every table's rows arrive (the
# PostgreSQL counts equal SQLite's), the trail refuses UPDATE and DELETE in PostgreSQL too, a
# second migration into the same database is refused, the SQLite copy made back holds every
# row of every table as the original did and its chain verifies; a PostgreSQL copy whose trail
# was altered behind the triggers' back is refused on the way back, naming the row, and no
# file is left.
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
chmod 755 "$W"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fail() { echo "FAIL pg_migrate: $*"; exit 1; }
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || fail "PostgreSQL's initdb not found (scripts/install-deps installs postgresql)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir "$W/pg" "$W/sock"
[ "$(id -u)" != 0 ] || chown postgres "$W/pg" "$W/sock"
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$W/pg" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
[ -z "${KEEP_PG:-}" ] || trap - EXIT
as_pg "$PGBIN/initdb" -D "$W/pg" -A trust -U ioheme >/dev/null || fail "initdb"
as_pg "$PGBIN/pg_ctl" -D "$W/pg" -o "-k $W/sock -c listen_addresses='' -c dynamic_shared_memory_type=mmap" -l "$W/pg/log" -w start >/dev/null ||
    fail "pg_ctl start: $(cat "$W/pg/log")"
URL="postgresql://ioheme@/postgres?host=$W/sock"
URL2="postgresql://ioheme@/other?host=$W/sock"
psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql "$URL" -c "CREATE DATABASE other" || fail "createdb"
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
"$IOHEME" init --db "$W/s.db" --admin admin --synthetic >/dev/null
"$IOHEME" simulate --db "$W/s.db" --patients 30 --seed 8 >/dev/null
"$IOHEME" query open IOH-001 --db "$W/s.db" --event baseline --field bl_hr --text "please check" >/dev/null 2>&1 || true
"$IOHEME" migrate --from "$W/s.db" --to "$URL" --json >"$W/out" || fail "to PostgreSQL: $(cat "$W/out")"
N=$(psql "$URL" -At -c "SELECT count(*) FROM audit")
sqlite3 "$W/s.db" ".backup '$W/snap.db'"
# every table: the same number of rows in PostgreSQL as in SQLite
for t in $(sqlite3 "$W/s.db" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"); do
    a=$(sqlite3 "$W/s.db" "SELECT count(*) FROM \"$t\"")
    b=$(psql "$URL" -At -c "SELECT count(*) FROM \"$t\"")
    # after the copy the source recorded it, and its sign-in: one audit row each at most
    case $t in audit) [ "$a" -ge "$b" ] && [ "$a" -le "$((b + 2))" ] || fail "audit: $a rows in SQLite, $b in PostgreSQL";;
               audit_head|session|user) ;;
               *) [ "$a" = "$b" ] || fail "table $t: $a rows in SQLite, $b in PostgreSQL";; esac
done
[ "$(psql "$URL" -At -c "SELECT hash FROM audit ORDER BY id DESC LIMIT 1")" = "$(sqlite3 "$W/s.db" "SELECT hash FROM audit WHERE id = $N")" ] ||
    fail "the last audit hash differs"
[ "$(sqlite3 "$W/s.db" "SELECT action || ' ' || field FROM audit ORDER BY id DESC LIMIT 1")" = "migrate migrate to postgresql" ] ||
    fail "the source does not record the copy"
if psql "$URL" -c "UPDATE audit SET reason = 'x' WHERE id = 2" 2>/dev/null; then fail "PostgreSQL let an audit row change"; fi
if psql "$URL" -c "DELETE FROM audit WHERE id = 2" 2>/dev/null; then fail "PostgreSQL let an audit row go"; fi
if psql "$URL" -c "DELETE FROM protocol_version" 2>/dev/null; then fail "PostgreSQL let a protocol version go"; fi
# the copy is a study ioheme runs on: its trail verifies (the copied rows and the sign-in this
# command adds), and its dataset is the SQLite study's, byte for byte
export IOHEME_KEY_FILE="$W/s.db.key"
"$IOHEME" audit verify --db "$URL" >"$W/v" || fail "audit verify on PostgreSQL: $(cat "$W/v")"
grep -q "audit trail intact" "$W/v" || fail "the PostgreSQL trail: $(cat "$W/v")"
"$IOHEME" dataset --db "$W/snap.db" --out "$W/ds1" >/dev/null 2>&1 || fail "dataset from SQLite"
"$IOHEME" dataset --db "$URL" --out "$W/ds2" >/dev/null 2>&1 || fail "dataset from PostgreSQL"
for f in "$W"/ds1/*.csv; do cmp -s "$f" "$W/ds2/$(basename "$f")" || fail "$(basename "$f") differs between the backends"; done
unset IOHEME_KEY_FILE
set +e
"$IOHEME" migrate --from "$W/s.db" --to "$URL" >/dev/null 2>"$W/err"; st=$?
set -e
[ $st = 7 ] && grep -q "already holds a study" "$W/err" || fail "a second migration into the same database: exit $st $(cat "$W/err")"
# back into a new SQLite file
"$IOHEME" migrate --from "$URL" --to "$W/back.db" >"$W/out" || fail "back to SQLite: $(cat "$W/out")"
"$IOHEME" audit verify --db "$W/back.db" >/dev/null || fail "the copy's trail does not verify"
/usr/bin/python3 - "$W/snap.db" "$W/back.db" "$N" <<'PY' || fail "the SQLite copy differs from the original"
import sqlite3, sys
a, b = (sqlite3.connect(p) for p in sys.argv[1:3])
tables = [r[0] for r in a.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
n_audit = int(sys.argv[3])   # the rows the PostgreSQL copy took
for t in tables:
    q = f'SELECT * FROM "{t}"' + (f' WHERE id <= {n_audit}' if t == 'audit' else '')
    ra, rb = sorted(map(repr, a.execute(q))), sorted(map(repr, b.execute(q)))
    if t in ('audit_head', 'session', 'user'):
        continue   # the sign-in on the copy moves its head, opens a session, stamps the login
    assert ra == rb, (t, len(ra), len(rb))
# the copy's only new rows are its sign-ins, the dataset export and the migration's record
extra = [r[0] for r in b.execute(f"SELECT action FROM audit WHERE id > {n_audit}")]
assert set(extra) <= {'login', 'migrate', 'export'} and 'migrate' in extra, extra
PY
# an altered PostgreSQL copy is refused on the way back
"$IOHEME" migrate --from "$W/s.db" --to "$URL2" >/dev/null || fail "to the second database"
psql "$URL2" -c "ALTER TABLE audit DISABLE TRIGGER USER; UPDATE audit SET reason = 'tampered' WHERE id = 5" || fail "tampering"
set +e
"$IOHEME" migrate --from "$URL2" --to "$W/bad.db" >/dev/null 2>"$W/err"; st=$?
set -e
[ $st != 0 ] && grep -q "row 5" "$W/err" || fail "a tampered copy came back: exit $st $(cat "$W/err")"
[ ! -e "$W/bad.db" ] || fail "the refused copy was left behind"
echo "pg_migrate: ok"
