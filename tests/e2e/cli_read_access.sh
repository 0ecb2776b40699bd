#!/bin/sh
# Commands that read or export study data act as a logged-in user with the permission
# docs/security.md gives them (core/perm.h): without a login nothing is read or written, a wrong
# password is refused and counts toward the lockout, a role without the permission is refused
# (exit 6) and audited as "denied", and every export and backup leaves an audit row naming the
# user, the output's name and row counts, never a patient's value. The trail still verifies.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_DB
unset IOHEME_USER IOHEME_PASSWORD IOHEME_PROTOCOL || true
I="$IOHEME"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { expect_exit "$@"; } # testdb.sh
as() { run_as "$@"; }
rows() { audit_rows "$1"; }

as admin admin-pass-1 "$I" init --admin admin --synthetic >/dev/null
for r in monitor:mon coordinator:nurse data_manager:dm statistician:stat; do
    echo "${r#*:}-pass-1" | as admin admin-pass-1 "$I" user add "${r#*:}" --role "${r%%:*}" >/dev/null
done
as admin admin-pass-1 "$I" simulate --patients 3 --seed 5 >/dev/null

# ---- logged out: refused (exit 5) before anything is read, nothing written
n0=$(rows "1 = 1")
for cmd in "show IOH-001" "history IOH-001 age" "screen --list" "audit export" \
    "audit verify" "backup $W/b0.db" "dataset --out $W/d0" "report --db $IOHEME_DB --out $W/r0" \
    "user list"; do
    # shellcheck disable=SC2086
    expect 5 "$I" $cmd
    grep -q "who is acting" "$W/err" || fail "$cmd: no login asked for"
    [ ! -s "$W/out" ] || fail "$cmd printed data without a login"
done
for f in b0.db d0 r0; do [ ! -e "$W/$f" ] || fail "$f written without a login"; done
[ "$(rows "1 = 1")" -eq "$n0" ] || fail "a refused anonymous call wrote to the trail"
# a user but no password and no terminal: refused too
expect 5 setsid -w env IOHEME_USER=mon "$I" show IOH-001
[ ! -s "$W/out" ] || fail "show printed data without a password"

# ---- a wrong password is refused, audited, and counts toward the lockout
for _ in 1 2 3 4 5; do expect 5 as mon wrong-password "$I" show IOH-001; done
[ ! -s "$W/out" ] || fail "show printed data with a wrong password"
[ "$(rows "action = 'login_failed' AND \"user\" = 'mon'")" -eq 5 ] || fail "failed logins not audited"
[ "$(rows "action = 'lockout' AND \"user\" = 'mon'")" -eq 1 ] || fail "no lockout after 5 failures"
expect 5 as mon mon-pass-1 "$I" show IOH-001
grep -q "locked" "$W/err" || fail "locked-out user not told"
as admin admin-pass-1 "$I" user unlock mon >/dev/null

# ---- a monitor reads (data_read, audit_read) but does not copy the study out
as mon mon-pass-1 "$I" show IOH-001 | grep -q "IOH-001" || fail "monitor cannot show"
as mon mon-pass-1 "$I" history IOH-001 age >/dev/null || fail "monitor cannot see history"
as mon mon-pass-1 "$I" screen --list | grep -q "SCR-" || fail "monitor cannot list screening"
as mon mon-pass-1 "$I" audit export --out "$W/mon-trail.csv" || fail "monitor cannot export the trail"
for cmd in "backup $W/b1.db" "dataset --out $W/d1" "report --db $IOHEME_DB --out $W/r1" \
    "audit verify" "user list"; do
    before=$(rows "action = 'denied' AND \"user\" = 'mon'")
    # shellcheck disable=SC2086
    expect 6 as mon mon-pass-1 "$I" $cmd
    grep -q "may not" "$W/err" || fail "$cmd: refusal does not say why"
    [ ! -s "$W/out" ] || fail "$cmd printed something for a monitor"
    [ "$(rows "action = 'denied' AND \"user\" = 'mon'")" -eq $((before + 1)) ] ||
        fail "$cmd: refusal not audited as denied"
done
for f in b1.db d1 r1; do [ ! -e "$W/$f" ] || fail "$f written by a refused command"; done
# a coordinator reads records but not the trail; a statistician analyses but takes no backup
as nurse nurse-pass-1 "$I" show IOH-001 >/dev/null || fail "coordinator cannot show"
expect 6 as nurse nurse-pass-1 "$I" audit export
expect 6 as stat stat-pass-1 "$I" backup "$W/b2.db"
grep -q "audit_verify" "$W/err" || fail "statistician's backup refusal does not name audit_verify"
expect 6 as stat stat-pass-1 "$I" audit export

# ---- every export leaves a row naming the user, the output and row counts
as stat stat-pass-1 "$I" dataset --out "$W/ds" >"$W/ds.out" || fail "statistician cannot write the dataset"
# it says what it wrote, each file with its rows, as the files hold them
n=$(($(wc -l <"$W/ds/subjects.csv") - 1))
grep -q "^wrote $W/ds/: screening.csv ([0-9]* rows), subjects.csv ($n rows),.*dataset_dictionary.csv, SYNTHETIC-DATA.txt (SYNTHETIC data: a training/demo database)$" "$W/ds.out" ||
    fail "dataset does not say what it wrote: $(cat "$W/ds.out")"
as stat stat-pass-1 "$I" report --out "$W/rep" >/dev/null || fail "statistician cannot report"
if ! on_pg; then
    as dm dm-pass-1 "$I" backup "$W/copy.db" >/dev/null || fail "data manager cannot back up"
else
    # a study on PostgreSQL is not copied to a file by ioheme (PostgreSQL's own backups, or
    # migrate to SQLite): refused as unsupported, nothing written, no backup row
    expect 13 as dm dm-pass-1 "$I" backup "$W/copy.db"
    grep -q "migrate" "$W/err" || fail "the backup refusal on PostgreSQL does not say how to copy"
    [ ! -e "$W/copy.db" ] || fail "a refused backup wrote a file"
fi
as admin admin-pass-1 "$I" audit export >"$W/trail.csv" || fail "admin cannot export to stdout"
q() { test_sql "$IOHEME_DB" "SELECT \"user\", field, new_value FROM audit WHERE $1"; }
n_csv=$(($(wc -l <"$W/mon-trail.csv") - 1))
[ "$(q "action = 'export' AND \"user\" = 'mon'")" = "mon|audit export|mon-trail.csv: $n_csv rows" ] ||
    fail "trail export by mon: $(q "action = 'export' AND \"user\" = 'mon'")"
subj=$(($(wc -l <"$W/ds/subjects.csv") - 1))
q "action = 'export' AND \"user\" = 'stat' AND field = 'dataset'" |
    grep -q "^stat|dataset|ds: screening [0-9]*, subjects $subj, placements [0-9]*" ||
    fail "dataset export row: $(q "action = 'export' AND field = 'dataset'")"
q "action = 'export' AND \"user\" = 'stat' AND field = 'report'" | grep -q "^stat|report|rep: screening" ||
    fail "report export row: $(q "action = 'export' AND field = 'report'")"
if ! on_pg; then
    q "action = 'backup'" | grep -q "^dm|backup|copy.db: full copy of the database, this row its last$" ||
        fail "backup row: $(q "action = 'backup'")"
else
    [ -z "$(q "action = 'backup'")" ] || fail "a refused backup left a row: $(q "action = 'backup'")"
fi
q "action = 'export' AND \"user\" = 'admin'" | grep -q "^admin|audit export|(standard output): [0-9]* rows$" ||
    fail "stdout export row: $(q "action = 'export' AND \"user\" = 'admin'")"
# the rows carry no record, and no value of any record
[ "$(rows "action IN ('export', 'backup') AND (record IS NOT NULL OR old_value IS NOT NULL)")" -eq 0 ] ||
    fail "an export row names a record"
nexp=5
if on_pg; then nexp=4; fi # no backup row on PostgreSQL
[ "$(rows "action IN ('export', 'backup') AND source = 'cli'")" -eq $nexp ] || fail "export rows' source"
# a refused export writes no export row
[ "$(rows "action = 'export' AND \"user\" IN ('nurse')")" -eq 0 ] || fail "refused export audited as export"

# ---- the trail verifies after all this (data manager), and the backup is a verified copy
as dm dm-pass-1 "$I" audit verify | grep -q "intact" || fail "trail broken after exports"
if ! on_pg; then
    as dm dm-pass-1 "$I" audit verify --db "$W/copy.db" | grep -q "intact" || fail "backup broken"
fi
echo "read access: logins, roles, denials and exports audited"
