#!/bin/sh
# Backup and scripted restore (P11-20): a backup of a populated study restores to a new path
# with every table's row count and SHA-256 equal to the backup's — checked here independently
# with sqlite3 — its audit chain intact plus one `restore` row; the backup file is never
# written to; an existing database is replaced only with --force and kept aside; a tampered
# backup (an audit row edited behind the triggers), a truncated one, a database in use, a
# non-admin and a wrong password are each refused, leaving the destination as it was.
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL restore: $*"; exit 1; }
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
I=$IOHEME

"$I" init --db "$W/study.db" --admin admin --synthetic >/dev/null
"$I" simulate --db "$W/study.db" --patients 8 --seed 3 >/dev/null
printf 'monitor-pass-1\n' | "$I" user add mon --role monitor --db "$W/study.db" >/dev/null
"$I" backup "$W/backup.db" --db "$W/study.db" >/dev/null
sum_before=$(sha256sum "$W/backup.db" | cut -d' ' -f1)

# an independent summary of a database: each table, its row count and the SHA-256 of its rows
# as sqlite3 prints them in key order (not ioheme's hashing: the two are compared below)
summary() {
    for t in $(sqlite3 "$1" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name"); do
        printf '%s %s %s\n' "$t" "$(sqlite3 "$1" "SELECT count(*) FROM \"$t\"")" \
            "$(sqlite3 -csv "$1" "SELECT * FROM \"$t\"" | sha256sum | cut -d' ' -f1)"
    done
}
summary "$W/backup.db" >"$W/backup.summary"

# 1. a restore to a new path
"$I" restore "$W/backup.db" --db "$W/restored.db" --json >"$W/out.json"
[ "$(sha256sum "$W/backup.db" | cut -d' ' -f1)" = "$sum_before" ] || fail "the backup file changed"
ls "$W" | grep -q 'backup.db-' && fail "files made beside the backup: $(ls "$W")"
[ -e "$W/restored.db.restoring" ] && fail "the staged copy was left"
python3 - "$W/out.json" "$W/backup.db" <<'PY' || fail "the JSON result does not match the backup"
import json, sqlite3, sys
out = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name")]
assert [t['table'] for t in out['tables']] == tables, (out['tables'], tables)
for t in out['tables']:
    n = db.execute(f'SELECT count(*) FROM "{t["table"]}"').fetchone()[0]
    assert t['rows'] == n, (t, n)
assert out['intact'] is True and out['previous'] is None
PY
# the restored database is the backup, plus its restore row
summary "$W/restored.db" >"$W/restored.summary"
diff "$W/backup.summary" "$W/restored.summary" | grep '^[<>]' | grep -v -E '^[<>] (audit|audit_head) ' &&
    fail "tables other than the trail differ: $(diff "$W/backup.summary" "$W/restored.summary")"
b_rows=$(sqlite3 "$W/backup.db" "SELECT count(*) FROM audit")
r_rows=$(sqlite3 "$W/restored.db" "SELECT count(*) FROM audit")
[ "$r_rows" -eq $((b_rows + 1)) ] || fail "restored trail: $r_rows rows, backup $b_rows (+1 expected)"
[ "$(sqlite3 "$W/restored.db" "SELECT action FROM audit ORDER BY id DESC LIMIT 1")" = restore ] || fail "last row is not the restore"
sqlite3 "$W/restored.db" "SELECT new_value FROM audit ORDER BY id DESC LIMIT 1" | grep -q "restored from backup.db" || fail "restore row does not name the backup"
[ "$(sqlite3 -csv "$W/restored.db" "SELECT * FROM audit WHERE id <= $b_rows" | sha256sum)" = \
  "$(sqlite3 -csv "$W/backup.db" "SELECT * FROM audit" | sha256sum)" ] || fail "the backup's trail is not the restored trail's start"
"$I" audit verify --db "$W/restored.db" | grep -q "intact" || fail "restored chain"
"$I" show IOH-001 --db "$W/restored.db" >/dev/null || fail "the restored study does not read"

# 2. an existing database: refused without --force; with it, kept aside
set +e; "$I" restore "$W/backup.db" --db "$W/study.db" 2>"$W/err"; rc=$?; set -e
[ "$rc" -eq 7 ] && grep -q -- "--force" "$W/err" || fail "replacing without --force: exit $rc, $(cat "$W/err")"
study_sum=$(sha256sum "$W/study.db" | cut -d' ' -f1)
"$I" screen --db "$W/study.db" --list >/dev/null # a command that leaves no -wal behind
"$I" restore "$W/backup.db" --db "$W/study.db" --force >"$W/out"
grep -q "kept as $W/study.db.before-restore" "$W/out" || fail "the old database is not said to be kept: $(cat "$W/out")"
[ "$(sha256sum "$W/study.db.before-restore" | cut -d' ' -f1)" = "$study_sum" ] || fail "the kept database changed"
set +e; "$I" restore "$W/backup.db" --db "$W/study.db" --force 2>"$W/err"; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "before-restore exists" "$W/err" || fail "a second --force over a kept file: exit $rc"

# 3. refusals leave the destination as it was and nothing behind
refuse() { # name expected-exit message-regex args...
    what=$1 want=$2 re=$3; shift 3
    set +e; "$@" 2>"$W/err" >/dev/null; rc=$?; set -e
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, want $want: $(cat "$W/err")"
    grep -q -E "$re" "$W/err" || fail "$what: message $(cat "$W/err")"
    [ -e "$W/new.db" ] && fail "$what: left a database"
    [ -e "$W/new.db.restoring" ] && fail "$what: left the staged copy"
    return 0
}
cp "$W/backup.db" "$W/tampered.db"
sqlite3 "$W/tampered.db" "DROP TRIGGER audit_no_update; UPDATE audit SET new_value = '99' WHERE id = 120"
refuse "a tampered backup" 10 "audit trail broken at row 120" "$I" restore "$W/tampered.db" --db "$W/new.db"
head -c 65536 "$W/backup.db" >"$W/truncated.db"
refuse "a truncated backup" 8 "the backup does not check" "$I" restore "$W/truncated.db" --db "$W/new.db"
refuse "a monitor" 6 "may not" env IOHEME_USER=mon IOHEME_PASSWORD=monitor-pass-1 "$I" restore "$W/backup.db" --db "$W/new.db"
refuse "a wrong password" 5 "authentication failed" env IOHEME_PASSWORD=wrong-pass-1 "$I" restore "$W/backup.db" --db "$W/new.db"
# a database in use: its -wal exists
: >"$W/restored.db-wal"
refuse "a database in use" 7 "in use" "$I" restore "$W/backup.db" --db "$W/restored.db" --force
echo "restore: ok"
