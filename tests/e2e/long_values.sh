#!/bin/sh
# Values as long as REDCap takes (issue 12 §2): a 20,000-character text value imports, saves
# and reads back whole (the write path once refused anything over 511 characters); 65,535 is
# the limit, as REDCap's TEXT column — one more is refused naming field, rule and length, and
# nothing of that import is saved.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL long_values: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme" IOHEME_DB
I=$IOHEME
"$I" init --admin admin --synthetic >/dev/null
"$I" simulate --patients 3 --seed 1 >/dev/null
python3 -c "
print('record_id,redcap_event_name,cons_version')
print('IOH-001,screening_arm_1,' + ''.join('abcdefghij'[i % 10] for i in range(20000)))
print('IOH-002,screening_arm_1,' + 'z' * 65535)" >"$W/long.csv"
"$I" import "$W/long.csv" --reason "long values" >/dev/null || fail "import of long values"
n1=$(test_sql "$IOHEME_DB" "SELECT length(value) FROM value WHERE field = 'cons_version' AND record_id = 1")
n2=$(test_sql "$IOHEME_DB" "SELECT length(value) FROM value WHERE field = 'cons_version' AND record_id = 2")
[ "$n1" = 20000 ] && [ "$n2" = 65535 ] || fail "stored lengths $n1 $n2"
"$I" show IOH-001 --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
v = [f['values']['cons_version'] for e in d['events'] for f in e['forms'] if 'cons_version' in f['values']][0]
assert v == ''.join('abcdefghij'[i % 10] for i in range(20000)), len(v)" || fail "read back"
python3 -c "
print('record_id,redcap_event_name,cons_version')
print('IOH-003,screening_arm_1,ok')
print('IOH-002,screening_arm_1,' + 'q' * 65536)" >"$W/huge.csv"
set +e; "$I" import "$W/huge.csv" --reason x >"$W/out" 2>&1; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "cons_version: field 'cons_version': value is 65536 characters, the limit is 65535 \[length\]" "$W/out" ||
    fail "over the limit: exit $rc $(cut -c1-300 "$W/out")"
[ "$(test_sql "$IOHEME_DB" "SELECT count(*) FROM value WHERE field = 'cons_version' AND value = 'ok'")" = 0 ] || fail "half saved"
echo "long_values: ok"
