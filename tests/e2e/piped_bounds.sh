#!/bin/sh
# A min or max piped from another field ("[lmp]", REDCap's Text Validation Min/Max naming a
# field; issue 12 §1: do what REDCap does): checked when the value is entered, against that
# field's value as the same save leaves it, through the one write path (import and `set`): outside
# it is saved and flagged for review (rule min / max), with @FORCE-MINMAX refused naming the bound
# and the value it read, nothing saved; a blank bound checks nothing; a date bound on a datetime
# field is its midnight. Dates are entered in the fields' own orders (D-M-Y, M-D-Y) and compared
# as dates. The dates are written out below; the flags expected follow from them by hand.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL piped_bounds: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1
mkdir "$W/p"
cat >"$W/p/dictionary.csv" <<CSV
$REDCAP_HEADER
record_id,visit,,text,ID,,,,,,,,,,,,,
lmp,visit,,text,"Last period",,,date_dmy,,,,,,,,,,
onset,visit,,text,"Onset",,,date_mdy,[lmp],2100-01-01,,,,,,,,
seen,visit,,text,"Seen",,,datetime_ymd,[lmp],,,,,,,,,
dose1,visit,,text,"Dose 1",,,number,,,,,,,,,,
dose2,visit,,text,"Dose 2",,,number,0,[dose1],,,,,,,,@FORCE-MINMAX
CSV
"$IOHEME" protocol show "$W/p" >"$W/show" || fail "protocol show"
grep -q "onset  *visit  *text  *date_mdy \[\[lmp\], 2100-01-01\]$" "$W/show" &&
    grep -q "dose2  *visit  *text  *number \[0, \[dose1\]\] hard$" "$W/show" ||
    fail "protocol show does not list the bounds checked: $(cat "$W/show")"
db=$(test_db piped)
"$IOHEME" init --db "$db" --admin admin --protocol "$W/p" >"$W/out" 2>&1 || fail "init: $(cat "$W/out")"
grep -q "does not check" "$W/out" && fail "a bound piped from a field is still said to be unchecked: $(cat "$W/out")"
flag() { test_sql "$db" "SELECT v.value || '|' || coalesce(v.flag, '') FROM value v JOIN record r ON r.id = v.record_id WHERE coalesce(r.study_id, r.screening_no) = '$1' AND v.field = '$2'"; }
want() { [ "$(flag "$1" "$2")" = "$3" ] || fail "$4: record $1 $2 is '$(flag "$1" "$2")', want '$3'"; }

# lmp 05-01-2026 (D-M-Y: 5 January). Record 1: onset 01-04-2026 (M-D-Y: 4 January), the day
# before: flagged min. Record 2: onset 01-05-2026 (5 January), the same day: inside.
# Record 3: no lmp, so no bound. Record 4: seen at 2026-01-04 23:59, a minute before 5 January's
# midnight: flagged; record 5 at midnight itself: inside.
cat >"$W/a.csv" <<CSV
record_id,lmp,onset,seen
1,05-01-2026,01-04-2026,
2,05-01-2026,01-05-2026,
3,,01-01-1990,
4,05-01-2026,,2026-01-04 23:59
5,05-01-2026,,2026-01-05 00:00
CSV
"$IOHEME" import "$W/a.csv" --db "$db" --reason "from REDCap" >"$W/out" 2>&1 || fail "import: $(cat "$W/out")"
want 1 onset "2026-01-04|min" "an onset before the lmp of the same row"
want 2 onset "2026-01-05|" "an onset on the lmp's day"
want 3 onset "1990-01-01|" "an onset without an lmp"
want 4 seen "2026-01-04 23:59|min" "seen before the lmp's midnight"
want 5 seen "2026-01-05 00:00|" "seen at the lmp's midnight"
# the flag opens a system query naming the bounds the value was checked against
q=$(test_sql "$db" "SELECT m.text FROM query_message m JOIN query q ON q.id = m.query_id WHERE q.field = 'onset' AND q.raised_value = '2026-01-04'")
[ "$q" = "value 2026-01-04 is outside the expected range (min [lmp], max 2100-01-01); please check it against the source" ] ||
    fail "the system query on the flagged onset reads '$q'"

# The bound is the value as this save leaves it: moving lmp back and onset with it in one `set`
# is inside; a later onset alone is checked against the stored lmp.
"$IOHEME" set 1 event_1 lmp=01-01-2026 onset=01-02-2026 --reason "corrected" --db "$db" >"$W/out" 2>&1 ||
    fail "set lmp and onset: $(cat "$W/out")"
want 1 onset "2026-01-02|" "onset after the lmp set with it"
"$IOHEME" set 2 event_1 onset=12-31-2025 --reason "corrected" --db "$db" >"$W/out" 2>&1 || fail "set onset: $(cat "$W/out")"
want 2 onset "2025-12-31|min" "onset before the stored lmp"
grep -q "below the minimum \[lmp\] (2026-01-05)" "$W/out" || fail "the flag is not reported: $(cat "$W/out")"

# @FORCE-MINMAX: dose2 above dose1 is refused, with every value of the save; at or below it, or
# without a dose1, it is saved.
printf 'record_id,dose1,dose2\n6,10,10.5\n' >"$W/bad.csv"
set +e; "$IOHEME" import "$W/bad.csv" --db "$db" --reason "from REDCap" >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "field 'dose2': 10.5 is above the maximum \[dose1\] (10)" "$W/out" ||
    fail "@FORCE-MINMAX above [dose1]: exit $rc, $(cat "$W/out")"
[ "$(test_sql "$db" "SELECT count(*) FROM record")" = 5 ] || fail "the refused import saved a record"
set +e; "$IOHEME" set 2 event_1 dose1=3 dose2=4 --reason "x" --db "$db" >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "set dose2 above dose1 in one save was accepted"
[ "$(flag 2 dose1)" = "" ] || fail "the refused set saved dose1: $(flag 2 dose1)"
printf 'record_id,dose1,dose2\n6,10,10\n7,,99\n' >"$W/ok.csv"
"$IOHEME" import "$W/ok.csv" --db "$db" --reason "from REDCap" >"$W/out" 2>&1 || fail "import doses: $(cat "$W/out")"
want 6 dose2 "10|" "dose2 equal to dose1"
want 7 dose2 "99|" "dose2 without a dose1"
echo "piped_bounds: ok"
