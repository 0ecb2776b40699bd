#!/bin/sh
# Sign-ins on the command line are audited once per CLI session (P11-06, docs/security.md):
# many commands by one user within STORE_CLI_SESSION_S leave one "login" row, every failure its
# own "login_failed"; `ioheme user report` is the user-access report for periodic review
# (P11-07): admin only, CSV or JSON, with each user's role, state, sign-ins and failures.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_DB IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
unset IOHEME_USER IOHEME_PASSWORD || true
I="$IOHEME"
fail() { echo "FAIL user_access: $*" >&2; exit 1; }
as() { run_as "$@"; } # testdb.sh
rows() { audit_rows "$1"; }

as admin admin-pass-1 "$I" init --admin admin >/dev/null
echo mon-pass-1 | as admin admin-pass-1 "$I" user add mon --role monitor >/dev/null
echo dm-pass-1 | as admin admin-pass-1 "$I" user add dm --role data_manager >/dev/null
as admin admin-pass-1 "$I" user list >/dev/null
as admin admin-pass-1 "$I" audit verify >/dev/null
[ "$(rows "action = 'login' AND \"user\" = 'admin' AND source = 'cli'")" -eq 1 ] ||
    fail "four admin commands in a session: $(rows "action = 'login' AND \"user\" = 'admin'") login rows, wanted 1"
as mon mon-pass-1 "$I" show IOH-001 >/dev/null 2>&1 || true
as mon mon-pass-1 "$I" db status >/dev/null
[ "$(rows "action = 'login' AND \"user\" = 'mon' AND source = 'cli'")" -eq 1 ] || fail "the monitor's session: not one login row"
set +e; as mon wrong-password "$I" db status >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 5 ] || fail "a wrong password: exit $rc, wanted 5"
[ "$(rows "action = 'login_failed' AND \"user\" = 'mon'")" -eq 1 ] || fail "the failed sign-in not audited"

# the report: admin only
set +e; as dm dm-pass-1 "$I" user report >"$W/out" 2>"$W/err"; rc=$?; set -e
[ "$rc" -eq 6 ] && [ ! -s "$W/out" ] || fail "a data manager got the user-access report (exit $rc)"
as admin admin-pass-1 "$I" user report >"$W/r.csv"
head -1 "$W/r.csv" | grep -qx "user,role,state,created_at,last_login,logins,last_failed_login,failed_logins,failed_in_a_row" ||
    fail "CSV header: $(head -1 "$W/r.csv")"
[ "$(wc -l <"$W/r.csv")" -eq 4 ] || fail "CSV: a row per user: $(cat "$W/r.csv")"
grep -Eq '^mon,monitor,active,[0-9T:.Z-]+,[0-9T:.Z-]+,1,[0-9T:.Z-]+,1,1$' "$W/r.csv" || fail "mon's row: $(grep ^mon "$W/r.csv")"
grep -Eq '^dm,data_manager,active,[0-9T:.Z-]+,[0-9T:.Z-]+,1,,0,0$' "$W/r.csv" || fail "dm's row: $(grep ^dm "$W/r.csv")"
as admin admin-pass-1 "$I" user disable dm >/dev/null
as admin admin-pass-1 "$I" user report --json >"$W/r.json"
grep -q '"user": "dm"' "$W/r.json" && grep -q '"state": "disabled"' "$W/r.json" || fail "JSON: $(cat "$W/r.json")"
# `user add` with a printed name or sites that are refused adds no user (it did, then failed)
for bad in "--full-name X" "--full-name $(printf 'N\377')" "--sites ZZ"; do
    set +e; echo nurse-pass-1 | as admin admin-pass-1 "$I" user add nurse --role coordinator $bad >/dev/null 2>"$W/err"; rc=$?; set -e
    [ "$rc" -ne 0 ] || fail "user add $bad: exit 0"
    as admin admin-pass-1 "$I" user list | grep -q '^nurse ' && fail "user add $bad: refused ($(cat "$W/err")) but the user was added"
done
grep -q 'no site' "$W/err" || fail "an unknown site: $(cat "$W/err")"
echo nurse-pass-1 | as admin admin-pass-1 "$I" user add nurse --role coordinator --full-name "Anna Müller" >/dev/null
as admin admin-pass-1 "$I" user list | grep -q '^nurse ' || fail "user add with a good printed name"
as admin admin-pass-1 "$I" audit verify >/dev/null || fail "audit verify"
echo "user_access: ok"
