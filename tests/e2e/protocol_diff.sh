#!/bin/sh
# `ioheme protocol diff DIR` (issue 13): against a populated database, a copy of its protocol
# with a field added, a choice added, a calc changed, a label changed, a field that holds values
# removed and a choice that holds values removed shows each change, and marks unsafe exactly the
# two that would orphan stored data, with the number of values each touches — counted again
# here with sqlite3 on the database file (psql on PostgreSQL).
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL protocol_diff: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme" IOHEME_DB
I=$IOHEME
"$I" init --admin admin --synthetic >/dev/null
"$I" simulate --patients 20 --seed 9 >/dev/null
cp -r "$IOHEME_SRC/protocols/io-heme" "$W/p2"
python3 - "$W/p2/dictionary.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
out = []
for r in rows:
    if r[0] == 'sex': r[5] = '1, Male'                       # choice 2 removed: it holds values
    if r[0] == 'heme_dx': r[5] += ' | 77, Newly added'       # a choice added
    if r[0] == 'bl_weight': continue                         # a field with values removed
    if r[0] == 'age': r[4] = 'Age (years)'                   # a label
    if r[0] == 'bl_bmi': r[5] = 'round([bl_height] / 100, 1)' # a calc changed (no longer reads bl_weight)
    out.append(r)
    if r[0] == 'scr_mrn':
        out.append(['scr_note', 'screening', '', 'notes', 'Note', '', '', '', '', '', '', '', '', '', '', '', '', ''])
csv.writer(open(sys.argv[1], 'w', newline='')).writerows(out)
PY
"$I" protocol diff "$W/p2" >"$W/out" || fail "diff: $(cat "$W/out")"
females=$(test_sql "$IOHEME_DB" "SELECT count(*) FROM value WHERE field = 'sex' AND value = '2'")
weights=$(test_sql "$IOHEME_DB" "SELECT count(*) FROM value WHERE field = 'bl_weight' AND value <> ''")
bmis=$(test_sql "$IOHEME_DB" "SELECT count(*) FROM value WHERE field = 'bl_bmi' AND value <> ''")
[ "$females" -gt 0 ] && [ "$weights" -gt 0 ] || fail "fixture: no values to orphan"
grep -q "^- choice    sex 2: 'Female' ($females stored values)  \[UNSAFE\]$" "$W/out" || fail "the removed choice: $(grep sex "$W/out")"
grep -q "^- field     bl_weight: form baseline, text ($weights stored values)  \[UNSAFE\]$" "$W/out" || fail "the removed field: $(grep bl_weight "$W/out")"
grep -q "^+ choice    heme_dx 77: 'Newly added'  \[safe\]$" "$W/out" || fail "the added choice"
grep -q "^~ label     age: 'Age at screening' -> 'Age (years)'  \[safe\]$" "$W/out" || fail "the label"
grep -q "^~ calc      bl_bmi: .* ($bmis stored values)  \[recomputed\]$" "$W/out" || fail "the calc: $(grep bl_bmi "$W/out")"
grep -q "^+ field     scr_note: form screening, notes  \[safe\]$" "$W/out" || fail "the added field"
grep -q "^6 change(s), 2 unsafe: they would orphan or reinterpret stored data$" "$W/out" || fail "summary: $(tail -1 "$W/out")"
"$I" protocol diff "$W/p2" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["safe"] is False and d["unsafe"] == 2, d
assert sorted(c["name"] for c in d["changes"] if c["verdict"] == "UNSAFE") == ["bl_weight", "sex"], d' || fail "--json"
# the protocol against itself: nothing
"$I" protocol diff "$IOHEME_SRC/protocols/io-heme" | grep -q "^0 change(s), 0 unsafe$" || fail "a protocol differs from itself"
echo "protocol_diff: ok"
