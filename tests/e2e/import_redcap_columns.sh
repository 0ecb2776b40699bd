#!/bin/sh
# REDCap's own columns in a flat import (issue 12 §2): nothing goes silently. Survey metadata
# (<form>_timestamp, redcap_survey_identifier) has no home in ioheme: the values are left out and
# the import says how many; a record the file puts in another data access group (site) than the
# one it is at is refused naming the column and both groups (an import does not move records),
# and then nothing of the file is saved. REDCap's import options: --overwrite (blank cells clear
# the fields the row's event collects) and --date-format MDY|DMY (M/D/YYYY, D/M/YYYY); REDCap's
# XML records export.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL import_redcap_columns: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme" IOHEME_DB
I=$IOHEME
"$I" init --admin admin --synthetic >/dev/null
"$I" simulate --patients 2 --seed 1 >/dev/null
cat >"$W/survey.csv" <<'CSV'
record_id,redcap_event_name,redcap_survey_identifier,consent_timestamp,cons_version
IOH-001,screening_arm_1,anon-7,2026-11-20 10:02:11,v7
IOH-002,screening_arm_1,,[not completed],v8
CSV
"$I" import "$W/survey.csv" --reason "from REDCap" >"$W/out" || fail "import: $(cat "$W/out")"
grep -q "^3 value(s) left out: survey metadata (<form>_timestamp, redcap_survey_identifier; ioheme has no surveys) and \[document\] placeholders of files REDCap holds$" "$W/out" ||
    fail "not said: $(cat "$W/out")"
grep -q "2 rows, 2 values changed" "$W/out" || fail "values: $(cat "$W/out")"
cat >"$W/dag.csv" <<'CSV'
record_id,redcap_event_name,redcap_data_access_group,cons_version
IOH-001,screening_arm_1,,v9
IOH-002,screening_arm_1,hospital_b,v9
CSV
set +e; "$I" import "$W/dag.csv" --reason x >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "row 3, IOH-002, redcap_data_access_group: IOH-002 is at site '(none)', the file says 'hospital_b': an import does not move records" "$W/out" ||
    fail "a DAG: exit $rc $(cat "$W/out")"
[ "$(test_sql "$IOHEME_DB" "SELECT count(*) FROM value WHERE field = 'cons_version' AND value = 'v9'")" = 0 ] || fail "half saved"
# blanks: nothing without --overwrite; with it, bl_temp (collected at baseline) is cleared,
# hd_hr (another event's form) and the blank status are left alone
[ -n "$(test_sql "$IOHEME_DB" "SELECT value FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = 'IOH-001' AND field = 'bl_temp'")" ] ||
    fail "the simulated IOH-001 has no bl_temp to clear"
cat >"$W/blank.csv" <<'CSV'
record_id,redcap_event_name,bl_temp,hd_hr,baseline_complete
IOH-001,baseline_arm_1,,,
CSV
"$I" import "$W/blank.csv" --reason "from REDCap" >"$W/out" || fail "blank import: $(cat "$W/out")"
grep -q "1 rows, 0 values changed" "$W/out" || fail "blanks changed something: $(cat "$W/out")"
"$I" import "$W/blank.csv" --overwrite --reason "from REDCap" >"$W/out" || fail "--overwrite: $(cat "$W/out")"
grep -q "1 rows, 1 values changed" "$W/out" || fail "--overwrite: $(cat "$W/out")"
[ -z "$(test_sql "$IOHEME_DB" "SELECT value FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = 'IOH-001' AND field = 'bl_temp'")" ] ||
    fail "--overwrite did not clear bl_temp"
# dates as the file writes them
printf 'record_id,redcap_event_name,bl_dx_date\nIOH-002,baseline_arm_1,3/7/2024\n' >"$W/dmy.csv"
"$I" import "$W/dmy.csv" --date-format DMY --reason "from REDCap" >"$W/out" || fail "--date-format DMY: $(cat "$W/out")"
[ "$(test_sql "$IOHEME_DB" "SELECT value FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = 'IOH-002' AND field = 'bl_dx_date'")" = 2024-07-03 ] ||
    fail "--date-format DMY: 3/7/2024 is not 3 July"
set +e; "$I" import "$W/dmy.csv" --reason x >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "bl_dx_date" "$W/out" || fail "3/7/2024 without --date-format: exit $rc $(cat "$W/out")"
set +e; "$I" import "$W/dmy.csv" --date-format YDM >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "YMD, MDY or DMY, not 'YDM'" "$W/out" || fail "--date-format YDM: exit $rc $(cat "$W/out")"
# REDCap's XML records export (a <records> root) is imported as the flat files are, not as ODM
cat >"$W/records.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8" ?>
<records>
<item><record_id><![CDATA[IOH-002]]></record_id><redcap_event_name><![CDATA[baseline_arm_1]]></redcap_event_name><bl_dx_date><![CDATA[4/5/2024]]></bl_dx_date></item>
</records>
XML
"$I" import "$W/records.xml" --date-format MDY --reason "from REDCap" >"$W/out" || fail "XML records: $(cat "$W/out")"
grep -q "1 rows, 1 values changed" "$W/out" || fail "XML records: $(cat "$W/out")"
[ "$(test_sql "$IOHEME_DB" "SELECT value FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = 'IOH-002' AND field = 'bl_dx_date'")" = 2024-04-05 ] ||
    fail "XML records: bl_dx_date not 2024-04-05"
# a field given twice in one row is refused in every format (the write path's rule); a JSON
# record with a key twice used to keep the last value silently, CSV and XML said so
printf 'record_id,redcap_event_name,bl_dx_date,bl_dx_date\nIOH-002,baseline_arm_1,2024-01-01,2024-02-02\n' >"$W/twice.csv"
printf '[{"record_id":"IOH-002","redcap_event_name":"baseline_arm_1","bl_dx_date":"2024-01-01","bl_dx_date":"2024-02-02"}]' >"$W/twice.json"
for f in twice.csv twice.json; do
    set +e; "$I" import "$W/$f" --reason x >"$W/out" 2>&1; rc=$?; set -e
    [ "$rc" -eq 3 ] && grep -Eq "more than once|duplicate object key near '\"bl_dx_date\"'" "$W/out" ||
        fail "$f: a field given twice: exit $rc $(cat "$W/out")"
done
[ "$(test_sql "$IOHEME_DB" "SELECT value FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = 'IOH-002' AND field = 'bl_dx_date'")" = 2024-04-05 ] ||
    fail "a refused import with a field twice changed bl_dx_date"
# --csv-delimiter: a tab-separated file, and a value holding a comma read whole
printf 'record_id\tredcap_event_name\tbl_dx_date\nIOH-002\tbaseline_arm_1\t2024-06-01\n' >"$W/tab.csv"
"$I" import "$W/tab.csv" --csv-delimiter tab --reason "from REDCap" >"$W/out" || fail "--csv-delimiter tab: $(cat "$W/out")"
[ "$(test_sql "$IOHEME_DB" "SELECT value FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = 'IOH-002' AND field = 'bl_dx_date'")" = 2024-06-01 ] ||
    fail "--csv-delimiter tab: bl_dx_date not 2024-06-01"
set +e; "$I" import "$W/tab.csv" --reason x >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "a tab-separated file read with commas was accepted: $(cat "$W/out")"
grep -q "the header is one column holding a tab: .*CSV delimiter (--csv-delimiter" "$W/out" ||
    fail "a tab-separated file read with commas: no hint at the delimiter: $(cat "$W/out")"
# a file Excel saved with ';' (where the decimal mark is a comma), read as ','
printf 'record_id;redcap_event_name;bl_dx_date\nIOH-002;baseline_arm_1;2024-06-02\n' >"$W/semi.csv"
set +e; "$I" import "$W/semi.csv" --reason x >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -eq 3 ] && grep -q "row 2, , record_id: no record ID: .*holding ';': .*CSV delimiter" "$W/out" ||
    fail "a ';'-separated file read with commas: exit $rc $(cat "$W/out")"
"$I" import "$W/semi.csv" --csv-delimiter ';' --reason x >"$W/out" || fail "--csv-delimiter ';': $(cat "$W/out")"
set +e; "$I" import "$W/tab.csv" --csv-delimiter : >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "not ':'" "$W/out" || fail "--csv-delimiter : exit $rc $(cat "$W/out")"
set +e; "$I" import "$W/tab.csv" --csv-delimiter "" >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "not ''" "$W/out" || fail "--csv-delimiter '' (empty): exit $rc $(cat "$W/out")"
echo "import_redcap_columns: ok"
