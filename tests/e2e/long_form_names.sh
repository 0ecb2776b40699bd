#!/bin/sh
# Form and event names as long as a dictionary allows (100 characters): a lock, a query and the
# SDV counts on a form whose name is 90 characters long keep the whole name (they were held
# in 64-byte fields, and a longer name came back cut).
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL long_form_names: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
db=$(test_db s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1
I=$IOHEME
F=$(python3 -c "print('a_form_with_a_long_name_' + 'x' * 66)")
mkdir "$W/p"
python3 - "$W/p/dictionary.csv" "$F" <<'PY'
import csv, sys
w = csv.writer(open(sys.argv[1], 'w', newline=''))
w.writerow(['Variable / Field Name', 'Form Name', 'Section Header', 'Field Type', 'Field Label', 'Choices, Calculations, OR Slider Labels', 'Field Note', 'Text Validation Type OR Show Slider Number', 'Text Validation Min', 'Text Validation Max', 'Identifier?', 'Branching Logic (Show field only if...)', 'Required Field?', 'Custom Alignment', 'Question Number (surveys only)', 'Matrix Group Name', 'Matrix Ranking?', 'Field Annotation'])
w.writerow(['record_id', sys.argv[2], '', 'text', 'Record ID'] + [''] * 13)
w.writerow(['weight', sys.argv[2], '', 'text', 'Weight'] + [''] * 13)
PY
[ ${#F} = 90 ] || fail "fixture: the name is ${#F} characters"
"$I" init --db "$db" --admin admin --protocol "$W/p" >/dev/null || fail "init"
"$I" screen --db "$db" weight=70 >/dev/null || fail "screen"
"$I" enroll SCR-001 --db "$db" >/dev/null || fail "enroll"
rec=$(test_sql "$db" "SELECT study_id FROM record")
"$I" lock "$rec" event_1 --form "$F" --reason "reviewed" --db "$db" >/dev/null || fail "lock"
"$I" show "$rec" --db "$db" | grep -q "^locked: form $F at event_1" || fail "the lock's form name is cut: $("$I" show "$rec" --db "$db" | grep locked)"
"$I" show "$rec" --db "$db" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['locked_forms'][0]['form'] == sys.argv[1], d['locked_forms']" "$F" || fail "the lock's form name is cut (json)"
echo "long_form_names: ok"
