#!/bin/sh
# The site time zone on the command line: `init --timezone` checks the name before creating
# anything and stores it; `ioheme timezone` shows it (UTC, "the default", for a database
# without one) and changes it as an admin only (exit 6 for another role, audited as denied),
# with a reason once one is set (exit 12 without), audited as site_timezone; an unknown zone is
# invalid input (exit 3) naming the value, and changes nothing.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
unset IOHEME_USER IOHEME_PASSWORD IOHEME_PROTOCOL IOHEME_DB || true
I="$IOHEME"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
expect() {
    want=$1; shift
    set +e; "$@" >"$W/out" 2>"$W/err" </dev/null; got=$?; set -e
    [ "$got" -eq "$want" ] || { cat "$W/out" "$W/err" >&2; fail "exit $got, wanted $want: $*"; }
}
export IOHEME_PASSWORD=admin-pass-1

# an unknown zone at init: invalid, and no database left behind (on PostgreSQL: no table in it)
bad=$(test_db bad)
expect 3 "$I" init --db "$bad" --admin admin --timezone Europe/Londn
grep -q "Europe/Londn" "$W/err" || fail "init names the unknown zone"
if ! on_pg; then
    [ ! -e "$bad" ] || fail "a refused init left a database"
else
    [ "$(test_sql "$bad" "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 0 ] ||
        fail "a refused init left tables"
fi

db=$(test_db s)
expect 0 "$I" init --db "$db" --admin admin --timezone Europe/London
grep -q "site time zone Europe/London" "$W/out" || fail "init says the site time zone"
export IOHEME_DB="$db" IOHEME_USER=admin
expect 0 "$I" timezone
grep -qx "site time zone: Europe/London" "$W/out" || fail "timezone shows the zone"

# changing it: a reason is required once a zone is set; an unknown zone changes nothing
expect 12 "$I" timezone Asia/Shanghai
expect 3 "$I" timezone Asia/Shangai --reason typo
expect 0 "$I" timezone Asia/Shanghai --reason "the site is in Shanghai" --json
grep -q '"timezone": "Asia/Shanghai"' "$W/out" || fail "timezone --json"
expect 0 "$I" audit export --out "$W/trail.csv"
grep -q 'site_timezone.*Europe/London.*Asia/Shanghai.*the site is in Shanghai' "$W/trail.csv" ||
    fail "the change is audited with old, new and reason"
[ "$(grep -c site_timezone "$W/trail.csv")" -eq 2 ] || fail "two site_timezone rows (init, change)"

# only an admin may change it
echo 'nurse-pass-1' | "$I" user add nurse --role coordinator >/dev/null
IOHEME_USER=nurse IOHEME_PASSWORD=nurse-pass-1 expect 0 "$I" timezone
IOHEME_USER=nurse IOHEME_PASSWORD=nurse-pass-1 expect 6 "$I" timezone UTC --reason x
expect 0 "$I" audit export --out "$W/trail2.csv"
grep -q 'denied.*settings' "$W/trail2.csv" || fail "the refusal is audited as denied"
expect 0 "$I" timezone
grep -qx "site time zone: Asia/Shanghai" "$W/out" || fail "a refused change changes nothing"

# a database created without a zone runs on UTC and says it is the default
plain=$(test_db plain)
expect 0 "$I" init --db "$plain" --admin admin
expect 0 "$I" timezone --db "$plain"
grep -q "UTC (the default" "$W/out" || fail "no zone: UTC, the default"
expect 0 "$I" audit verify
echo ok
