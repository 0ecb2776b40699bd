#!/bin/sh
# Values hidden by branching logic (issue 10, item 3), through the CLI and the importer: a save
# that hides a field holding a value is refused with a message naming the field by its label,
# nothing saved; the same answer with the value cleared is saved and the clearing audited; an
# import gets the same answer; a hidden value stored before the rule (written here with sqlite3
# or psql, as an older ioheme could have) is listed by `ioheme quality` and left out of the
# dataset.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL hidden_values: $*"; exit 1; }
expect() {
    want=$1; shift
    set +e; "$@" >"$W/out" 2>"$W/err" </dev/null; got=$?; set -e
    [ "$got" -eq "$want" ] || { cat "$W/out" "$W/err" >&2; fail "exit $got, wanted $want: $*"; }
}
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_DB IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 \
    IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
I=$IOHEME
"$I" init --admin admin >/dev/null
use_token "$IOHEME_DB" # admin signs in with an API token (testdb.sh)
NOCI="ci_fracture=0 ci_prosthesis=0 ci_recent_io=0 ci_skin=0 ci_landmarks=0 ci_osteoporosis=0 ci_oi=0"
# shellcheck disable=SC2086
"$I" screen scr_date=2026-03-03 scr_by=3 age=45 sex=2 heme_disease=1 heme_dx=1 qual_cat1___1=1 \
    qual_cat2___1=1 qual_cat3___0=1 qual_cat4___0=1 qual_cat5___0=1 scr_site_plan=2 $NOCI \
    scr_consent=1 >/dev/null
"$I" enroll SCR-001 cons_type=1 "cons_dt=2026-03-03 09:40" cons_obtained_by=3 cons_withdrawn=0 >/dev/null
P=io_procedure:1

# a failed attempt with its reason, then the outcome changed to success: refused
"$I" set IOH-001 $P att_placement=1 att_number=1 att_outcome=2 att_fail_reason=1 >/dev/null
n0=$(test_sql "$IOHEME_DB" "SELECT count(*) FROM audit")
expect 3 "$I" set IOH-001 $P att_outcome=1
grep -q "'Reason for failure' (att_fail_reason)" "$W/err" || fail "message lacks the label: $(cat "$W/err")"
grep -q "holds '1'" "$W/err" && grep -q "att_fail_reason=" "$W/err" && grep -q "rule: hidden" "$W/err" ||
    fail "message lacks value, remedy or rule: $(cat "$W/err")"
[ "$(test_sql "$IOHEME_DB" "SELECT count(*) FROM audit")" = "$n0" ] || fail "a refused save left audit rows"
"$I" show IOH-001 --json | grep -q '"att_outcome": "2"' || fail "the outcome changed anyway"

# the same answer with the hidden value cleared: saved, the clearing audited with the reason
"$I" set IOH-001 $P att_outcome=1 att_fail_reason= --reason "source: procedure note" >/dev/null
"$I" show IOH-001 --json | grep -q '"att_fail_reason"' && fail "the reason for failure is still stored"
"$I" history IOH-001 att_fail_reason | grep -q "source: procedure note" || fail "clearing not audited with its reason"
# a value on a field the answers hide: refused
expect 3 "$I" set IOH-001 $P att_fail_reason=2
grep -q "cannot be saved" "$W/err" || fail "value on a hidden field: $(cat "$W/err")"

# the importer gives the same answer: a row hiding a stored value is refused, nothing imported
"$I" set IOH-001 io_procedure:2 att_placement=1 att_number=2 att_outcome=2 att_fail_reason=3 >/dev/null
cat >"$W/imp.csv" <<CSV
record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,att_outcome
IOH-001,io_procedure_arm_1,io_attempt,2,1
CSV
expect 3 "$I" import "$W/imp.csv"
grep -q "att_fail_reason.*hidden" "$W/err" || fail "import not refused for the hidden value: $(cat "$W/err")"
"$I" show IOH-001 --json | grep -q '"att_fail_reason": "3"' || fail "import changed something"

# a hidden value stored before the rule: listed by the data-quality check, left out of the dataset
"$I" set IOH-001 t0 hd_status=2 >/dev/null   # not done: the patient died
rid=$(test_sql "$IOHEME_DB" "SELECT id FROM record WHERE study_id = 'IOH-001'")
test_sql "$IOHEME_DB" "INSERT INTO value(record_id, event, instance, field, code, form, value) VALUES ($rid, 't0_arm_1', 0, 'hd_hr', '', 'haemodynamics', '150')"
"$I" quality >"$W/q"
grep -q "IOH-001  t0_arm_1  'Heart rate' (hd_hr) = '150': hidden by" "$W/q" || fail "quality: $(cat "$W/q")"
grep -q "^1 finding" "$W/q" || fail "quality count: $(cat "$W/q")"
"$I" quality --json | grep -q '"check": "hidden_value"' || fail "quality --json"
"$I" dataset --out "$W/ds" >"$W/out"
grep -q "left out 1 stored value" "$W/out" || fail "dataset does not say what it left out: $(cat "$W/out")"
row=$(grep '^IOH-001,T0,' "$W/ds/haemodynamics.csv")
[ "$(echo "$row" | cut -d, -f6)" = "" ] || fail "the dataset used the hidden heart rate: $row"
echo "$row" | grep -q ',died,' || fail "T0 status: $row"

# the SDTM export leaves hidden values out too, including those it reads beside the dataset:
# the consent's date, hidden once the consent type no longer shows it, is no RFICDTC / DSSTDTC
"$I" export xpt --out "$W/x1" >/dev/null
grep -q "2026-03-03T09:40" "$W/x1/dm.xpt" || fail "the consent date is not in dm.xpt to begin with"
test_sql "$IOHEME_DB" "UPDATE value SET value = '3' WHERE record_id = $rid AND field = 'cons_type'" >/dev/null
# (the write above left no audit row, as no ioheme write ever does: the export cache, which
# trusts the trail to name every record that changed, is turned off for what follows)
IOHEME_EXPORT_CACHE=off "$I" export xpt --out "$W/x2" >/dev/null
for f in dm ds; do
    if grep -q "T09:40" "$W/x2/$f.xpt"; then fail "$f.xpt used the hidden consent date"; fi
done
grep -q "2026-03-03" "$W/x2/ds.xpt" || fail "ds.xpt lost the consent milestone's date (enrolment)"
echo ok
