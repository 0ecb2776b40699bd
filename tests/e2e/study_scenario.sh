#!/bin/sh
# The study run end to end through the CLI on the real protocol (protocols/io-heme):
# init, users, screening (one ineligible, one eligible), enrolment, an IO procedure with two
# attempts (first failed, second successful), haemodynamics, a correction on a complete form
# (refused without a reason, accepted with one), history, audit verification, permissions and
# lockout, an all-or-nothing import, and tampering with the database behind ioheme's back.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db study)
export IOHEME_DB IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1
unset IOHEME_PROTOCOL || true
I="$IOHEME"
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect CODE CMD...: runs CMD, requires exit status CODE, keeps stderr in $W/err
expect() {
    want=$1; shift
    set +e; "$@" >"$W/out" 2>"$W/err"; got=$?; set -e
    [ "$got" -eq "$want" ] || { cat "$W/out" "$W/err" >&2; fail "exit $got, wanted $want: $*"; }
}

# ---- set-up
"$I" init --admin admin --protocol "$IOHEME_SRC/protocols/io-heme" >/dev/null
expect 7 "$I" init --admin admin --protocol "$IOHEME_SRC/protocols/io-heme"   # no overwrite
echo "nurse-pass-1" | "$I" user add nurse --role coordinator >/dev/null
echo "invest-pass-1" | "$I" user add pi --role investigator >/dev/null
echo "monitor-pass-1" | "$I" user add mon --role monitor >/dev/null
"$I" user list --json | grep -q '"coordinator"' || fail "user list"
use_token "$IOHEME_DB" # then commands sign in with API tokens, not a password check each

# ---- screening: everything the criteria need, as a nurse
use_token "$IOHEME_DB" nurse nurse-pass-1
COMMON="sex=1 heme_disease=1 heme_dx=1 qual_cat1___1=1 qual_cat2___0=1 qual_cat3___0=1
qual_cat4___0=1 qual_cat5___0=1 scr_date=2026-03-01 scr_by=3 scr_site_plan=2 ci_fracture=0
ci_prosthesis=0 ci_recent_io=0 ci_skin=0 ci_landmarks=0 ci_osteoporosis=0 ci_oi=0
scr_consent=1"
# shellcheck disable=SC2086
"$I" screen age=70 $COMMON >"$W/out"
grep -q "SCR-001" "$W/out" || fail "first screening number"
grep -q "FAIL.*age" "$W/out" || fail "age criterion not shown failing"
grep -q "verdict: not eligible" "$W/out" || fail "age 70 should be a screen failure"
# shellcheck disable=SC2086
"$I" screen age=54 $COMMON --json >"$W/out"
grep -q '"verdict": "eligible"' "$W/out" || fail "age 54 should be eligible"
grep -q '"screening_no": "SCR-002"' "$W/out" || fail "second screening number"
# a rejected screening creates nothing
expect 3 "$I" screen age=fifty
grep -q "age" "$W/err" || fail "rejection does not name the field"
"$I" screen --list >"$W/out"
grep -q "SCR-001.*screen_failure" "$W/out" || fail "screen failure not kept in the log"
[ "$(grep -c '^SCR-' "$W/out")" -eq 2 ] || fail "rejected screening left a record"

# ---- enrolment; before it, only screening data can be entered
expect 3 "$I" set SCR-002 t0 hd_status=1
grep -q "not enrolled" "$W/err" || fail "sequencing: data before enrolment"
expect 7 "$I" enroll SCR-001 cons_type=1
grep -q "not eligible" "$W/err" || fail "ineligible enrolment message"
expect 7 "$I" enroll SCR-002
grep -q "consent" "$W/err" || fail "enrolment without consent message"
"$I" enroll SCR-002 cons_type=1 "cons_dt=2026-03-01 10:30" >"$W/out"
grep -q "IOH-001" "$W/out" || fail "study ID"

# ---- IO procedure, two attempts: the first failed, the second succeeded
"$I" set IOH-001 io_procedure:1 iop_number=1 "iop_decision_dt=2026-03-01 11:00:00" iop_device=1 \
    iop_site=2 iop_side=1 iop_n_attempts=2 iop_success=1 "iop_confirm_dt=2026-03-01 11:03:10" \
    >/dev/null
"$I" set IOH-001 io_procedure:1 att_placement=1 att_number=1 att_site=2 att_side=1 \
    "att_start_dt=2026-03-01 11:00:30" "att_end_dt=2026-03-01 11:01:10" att_outcome=2 \
    att_fail_reason=1 --status complete >/dev/null
"$I" set IOH-001 io_procedure:2 att_placement=1 att_number=2 att_site=2 att_side=2 \
    "att_start_dt=2026-03-01 11:02:00" "att_end_dt=2026-03-01 11:03:00" att_outcome=1 \
    --status complete >/dev/null
# --json speaks the API's vocabulary (docs/api.md): calculated, status_changed, warnings[]
"$I" set IOH-001 io_procedure:1 "iop_notes=\"quoted\" = note" --json >"$W/out"
python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["record"] == "IOH-001" and o["event"] == "io_procedure_arm_1" and o["instance"] == 1, o
assert o["changed"] == 1 and "calculated" in o and "status_changed" in o and o["warnings"] == [], o
' "$W/out" || fail "set --json: $(cat "$W/out")"
"$I" show IOH-001 --json >"$W/out"
grep -q '"iop_access_s": "190"' "$W/out" || fail "access time calc (11:00:00 -> 11:03:10 = 190 s)"
grep -q '"att_duration_s": "40"' "$W/out" || fail "attempt 1 duration calc"
# a repeating form needs an instance
expect 3 "$I" set IOH-001 io_procedure att_outcome=1
grep -q "instance" "$W/err" || fail "instance rule"
# a hard error rejects the whole set: nothing saved
expect 3 "$I" set IOH-001 t0 hd_status=1 hd_hr=120 hd_sbp=abc
grep -q "hd_sbp" "$W/err" && grep -q "abc" "$W/err" || fail "hard error names field and value"
"$I" show IOH-001 --json | grep -q '"hd_hr"' && fail "hd_hr saved from a rejected set"
# out of range is saved and flagged
"$I" set IOH-001 t0 hd_status=1 "hd_dt=2026-03-01 11:05" hd_sbp=82 hd_hr=120 hd_spo2=101 \
    >"$W/out"
grep -q "flagged hd_spo2" "$W/out" || fail "soft flag not reported"

# ---- correction on a complete form: refused without reason, accepted with one
expect 12 "$I" set IOH-001 io_procedure:2 att_side=1
grep -q "att_side" "$W/err" || fail "reason refusal does not name the field"
"$I" set IOH-001 io_procedure:2 att_side=1 --reason "side transcribed wrongly" >/dev/null
"$I" history IOH-001 att_side >"$W/out"
grep -q "2 -> 1.*side transcribed wrongly" "$W/out" || fail "history lacks the correction"
grep -q "nurse" "$W/out" || fail "history lacks the user"
"$I" history IOH-001 att_side --json | grep -q '"reason": "side transcribed wrongly"' ||
    fail "history --json"
# the API's vocabulary for an audit row (docs/api.md): time, user, action, old, new, source,
# and the protocol version in force (1: the protocol at creation)
"$I" history IOH-001 att_side --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert rows and all(set(r) == {"id", "time", "user", "action", "event", "instance", "field",
                               "old", "new", "reason", "source", "protocol_version"} for r in rows), rows
assert all(r["protocol_version"] == 1 for r in rows), rows
' || fail "history --json keys"

# ---- permissions and authentication
export IOHEME_USER=mon IOHEME_PASSWORD=monitor-pass-1
expect 6 "$I" set IOH-001 t0 hd_hr=110                  # a monitor cannot write
export IOHEME_USER=pi
for n in 1 2 3 4; do expect 5 env IOHEME_PASSWORD=wrong-password "$I" set IOH-001 t0 hd_hr=99; done
expect 5 env IOHEME_PASSWORD=wrong-password "$I" set IOH-001 t0 hd_hr=99
grep -q "locked" "$W/err" || fail "fifth failure should lock the account"
expect 5 env IOHEME_PASSWORD=invest-pass-1 "$I" set IOH-001 t0 hd_hr=99   # locked out
use_token "$IOHEME_DB" admin admin-pass-1
"$I" audit export --out "$W/audit.csv"
[ "$(grep -c ',login_failed,' "$W/audit.csv")" -eq 6 ] || fail "failed logins not audited"
[ "$(grep -c ',lockout,' "$W/audit.csv")" -eq 1 ] || fail "lockout not audited"
grep -q ',denied,' "$W/audit.csv" || fail "refusal not audited"
"$I" user unlock pi --json | grep -q '"done": "unlocked"' || fail "user unlock --json"
IOHEME_USER=pi IOHEME_PASSWORD=invest-pass-1 "$I" set IOH-001 t0 hd_hr=99 >/dev/null
"$I" user disable nurse >/dev/null
expect 5 env IOHEME_USER=nurse IOHEME_PASSWORD=nurse-pass-1 "$I" set IOH-001 t0 hd_hr=98

# ---- import: all rows or none, with the file's hash in the audit trail
cat >"$W/bad.csv" <<CSV
record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,hd_status,hd_rr,hd_uo
IOH-001,t15min_arm_1,,,1,22,40
IOH-001,t30min_arm_1,,,1,twenty,35
IOH-009,t30min_arm_1,,,1,20,35
CSV
expect 3 "$I" import "$W/bad.csv"
grep -q "row 3.*hd_rr" "$W/err" || fail "import report lacks the bad value's row"
grep -q "IOH-009" "$W/err" || fail "import report lacks the unknown record"
"$I" show IOH-001 --json | grep -q '"hd_uo"' && fail "import saved rows from a rejected file"
# a repeat instance that is not a positive integer is refused, not read as 0 or 2; one past
# 32 bits is refused, not wrapped to 1; one past the form's maximum (999) is refused
printf 'record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,hd_rr,inf_volume\nIOH-001,t15min_arm_1,,x,22,\nIOH-001,t15min_arm_1,,2b,22,\nIOH-001,io_procedure_arm_1,infusion,4294967297,,50\nIOH-001,io_procedure_arm_1,infusion,2147483647,,50\nIOH-001,io_procedure_arm_1,infusion,1000,,50\n' >"$W/inst.csv"
expect 3 "$I" import "$W/inst.csv"
[ "$(grep -c "redcap_repeat_instance '.*' is not a whole number" "$W/err")" -eq 2 ] || fail "bad instance: $(cat "$W/err")"
[ "$(grep -c "redcap_repeat_instance: redcap_repeat_instance [0-9]* is out of range" "$W/err")" -eq 2 ] || fail "huge instance: $(cat "$W/err")"
grep -q "inf_volume: .*instance 1000 is not allowed (1 to 999" "$W/err" || fail "instance past the maximum: $(cat "$W/err")"
sed -e '/twenty/d' -e '/IOH-009/d' "$W/bad.csv" >"$W/good.csv"
"$I" import "$W/good.csv" >/dev/null
sha=$(sha256sum "$W/good.csv" | cut -c1-64)
"$I" audit export | grep -q ",import,$sha," || fail "import rows lack source and sha256"

# JSON import (REDCap's JSON export shape) and screening from a JSON file
cat >"$W/good.json" <<JSON
[{"record_id": "IOH-001", "redcap_event_name": "t30min_arm_1", "redcap_repeat_instrument": "",
  "redcap_repeat_instance": "", "hd_status": "1", "hd_hr": 104, "hd_rr": ""}]
JSON
"$I" import "$W/good.json" --json >"$W/out"
grep -q '"imported": true' "$W/out" || fail "JSON import"
printf '{"age": 33, "sex": "1", "heme_disease": "1", "qual_cat1___2": "1"}' >"$W/scr.json"
"$I" screen --file "$W/scr.json" --json >"$W/out"
grep -q '"screening_no": "SCR-003"' "$W/out" || fail "screen --file"
grep -q '"verdict": "incomplete"' "$W/out" || fail "partial screening should be incomplete"
# a key twice (which age?) is refused, not the last one taken
printf '{"age": 33, "age": 63}' >"$W/scr2.json"
set +e; "$I" screen --file "$W/scr2.json" >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -eq 3 ] && grep -q "duplicate object key near '\"age\"'" "$W/out" || fail "screen --file with age twice: exit $rc $(cat "$W/out")"

# ---- record lock
"$I" lock IOH-001 --json >"$W/out"
grep -q '"locked": true' "$W/out" || fail "lock --json: $(cat "$W/out")"
expect 7 "$I" set IOH-001 t60min hd_status=1
grep -q "locked" "$W/err" || fail "locked record accepted a change"
expect 12 "$I" unlock IOH-001
"$I" unlock IOH-001 --reason "query answered" --json | grep -q '"locked": false' ||
    fail "unlock --json"
"$I" set IOH-001 t60min hd_status=1 >/dev/null

# ---- no password and no terminal: refused, never hangs
expect 5 setsid -w env -u IOHEME_PASSWORD -u IOHEME_TOKEN "$I" set IOH-001 t60min hd_hr=90

# ---- the audit trail verifies, then tampering is found
"$I" audit verify >"$W/out"
grep -q "intact" "$W/out" || fail "verify on an untouched trail"
# keep the study as it is (a copy of the file; on PostgreSQL a database made from it as the
# template) and put it back after each tampering; drop_trigger names the trigger's table there
if on_pg; then
    PGADMIN=$(sed 's/%s/postgres/' "$IOHEME_TEST_PG/url")
    STUDY_NAME=${IOHEME_DB%%\?*}; STUDY_NAME=${STUDY_NAME##*/}
    test_sql "$PGADMIN" "CREATE DATABASE ${STUDY_NAME}_pristine TEMPLATE $STUDY_NAME"
    restore_pristine() {
        test_sql "$PGADMIN" "DROP DATABASE $STUDY_NAME WITH (FORCE)"
        test_sql "$PGADMIN" "CREATE DATABASE $STUDY_NAME TEMPLATE ${STUDY_NAME}_pristine"
    }
    drop_trigger() { echo "DROP TRIGGER $1 ON audit;"; }
else
    cp "$IOHEME_DB" "$W/pristine.db"
    restore_pristine() { cp "$W/pristine.db" "$IOHEME_DB"; rm -f "$IOHEME_DB-wal" "$IOHEME_DB-shm"; }
    drop_trigger() { echo "DROP TRIGGER $1;"; }
fi
# an edited row
test_sql "$IOHEME_DB" "$(drop_trigger audit_no_update) UPDATE audit SET new_value = '3' WHERE field = 'att_side' AND reason IS NOT NULL"
id=$(test_sql "$IOHEME_DB" "SELECT id FROM audit WHERE field = 'att_side' AND reason IS NOT NULL")
expect 10 "$I" audit verify
grep -q "row $id" "$W/err" || fail "edited row $id not named: $(cat "$W/err")"
# a deleted row
restore_pristine
test_sql "$IOHEME_DB" "$(drop_trigger audit_no_delete) DELETE FROM audit WHERE id = 10"
expect 10 "$I" audit verify
grep -q "row 11" "$W/err" || fail "deletion not found at row 11: $(cat "$W/err")"
# an inserted row (ids after it shifted up, so the trail looks contiguous)
restore_pristine
test_sql "$IOHEME_DB" "$(drop_trigger audit_no_update)
UPDATE audit SET id = id + 100000 WHERE id >= 12; UPDATE audit SET id = id - 99999 WHERE id >= 100012;
INSERT INTO audit(id, ts, \"user\", action, source, prev_hash, hash)
  SELECT 12, ts, \"user\", action, source, hash, hash FROM audit WHERE id = 11"
expect 10 "$I" audit verify
grep -q "row 12.*inserted" "$W/err" || fail "insertion not found at row 12: $(cat "$W/err")"
# the last rows deleted: the head notices
restore_pristine
test_sql "$IOHEME_DB" "$(drop_trigger audit_no_delete) DELETE FROM audit WHERE id > (SELECT max(id) - 2 FROM audit)"
expect 10 "$I" audit verify
grep -q "head" "$W/err" || fail "deleting the last rows not detected"
# the triggers stop the honest mistake
restore_pristine
if test_sql "$IOHEME_DB" "DELETE FROM audit WHERE id = 5" 2>/dev/null; then
    fail "trigger did not block a delete"
fi
if on_pg; then test_sql "$PGADMIN" "DROP DATABASE ${STUDY_NAME}_pristine"; fi
"$I" audit verify --json | grep -q '"intact": true' || fail "pristine copy should verify"

# ---- backup (SQLite: a file; on PostgreSQL the server's own backups, docs/operations.md)
if ! on_pg; then
    "$I" backup "$W/backup.db" | grep -q "intact" || fail "backup"
    "$I" backup "$W/backup2.db" --json | grep -q '"intact": true' || fail "backup --json"
    # verifying the copy later leaves its trail and data as they were (the sign-in counts its
    # attempt in the copy's user table, and gives it back on success)
    trail=$(sqlite3 "$W/backup.db" "SELECT count(*) || ':' || max(hash) FROM audit")
    "$I" audit verify --db "$W/backup.db" | grep -q "intact" || fail "backup does not verify later"
    [ "$(sqlite3 "$W/backup.db" "SELECT count(*) || ':' || max(hash) FROM audit")" = "$trail" ] ||
        fail "verifying the backup changed its trail"
    [ "$(sqlite3 "$W/backup.db" "SELECT failed_logins FROM user WHERE name = 'admin'")" = 0 ] ||
        fail "verifying the backup left a failure counted"
else
    # what the backup's checks prove of verifying, on the study itself: its trail and its
    # admin's failed sign-ins are as they were
    trail=$(test_sql "$IOHEME_DB" "SELECT count(*) || ':' || max(hash) FROM audit")
    "$I" audit verify | grep -q "intact" || fail "the study does not verify"
    [ "$(test_sql "$IOHEME_DB" "SELECT count(*) || ':' || max(hash) FROM audit")" = "$trail" ] ||
        fail "verifying changed the trail"
    [ "$(test_sql "$IOHEME_DB" "SELECT failed_logins FROM \"user\" WHERE name = 'admin'")" = 0 ] ||
        fail "verifying left a failure counted"
fi
# init --json is JSON even for a path that needs escaping
IOHEME_PASSWORD=admin-pass-1 "$I" init --db "$W/q\"uote.db" --admin admin \
    --protocol "$IOHEME_SRC/protocols/io-heme" --json | python3 -m json.tool >/dev/null ||
    fail "init --json is not JSON for a path with a quote"
echo ok
