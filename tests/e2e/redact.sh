#!/bin/sh
# Redaction (P11-13): a patient's name typed into a free-text field is redacted by an admin
# with a reason; from then on no view or export of the trail carries it — history, `audit
# export`, the ODM export — while `audit verify` still proves every row (the rows never change)
# and the redaction itself is audited; the replacement stays readable; a monitor may not redact;
# a reason is required; a backup restored elsewhere keeps the redaction (on PostgreSQL, which has
# no `ioheme backup`: the copy `ioheme migrate` makes of it).
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL redact: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme" IOHEME_DB
I=$IOHEME
NAME="Wang Xiaoming"

"$I" init --admin admin --synthetic >/dev/null
use_token "$IOHEME_DB" # admin signs in with an API token (testdb.sh)
"$I" simulate --patients 2 --seed 4 >/dev/null
printf 'monitor-pass-1\n' | "$I" user add mon --role monitor >/dev/null
"$I" set IOH-001 screening "cons_version=v2 read to $NAME by phone" --reason "version noted" >/dev/null
"$I" set IOH-001 screening "cons_version=v2 ($NAME)" --reason "shortened" >/dev/null
"$I" audit export | grep -q "$NAME" || fail "fixture: the name is in the trail before the redaction"
set +e
"$I" redact IOH-001 screening cons_version --value v2 2>"$W/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--reason" "$W/err" || fail "no reason: exit $rc $(cat "$W/err")"
IOHEME_USER=mon IOHEME_PASSWORD=monitor-pass-1 "$I" redact IOH-001 screening cons_version --reason x 2>"$W/err"; rc=$?
[ "$rc" -eq 6 ] || fail "a monitor redacted: exit $rc $(cat "$W/err")"
"$I" redact IOH-001 screening bl_bmi --reason x 2>"$W/err"; rc=$?
[ "$rc" -ne 0 ] || fail "a calc was redacted"
set -e

rows_before=$(test_sql "$IOHEME_DB" "SELECT count(*) FROM audit")
"$I" redact IOH-001 screening cons_version --value v2 --reason "patient's name typed in a free-text field" --json >"$W/out.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['masked'] == 4, d" "$W/out.json" ||
    fail "masked count: $(cat "$W/out.json")"

# no view or export carries the name; the replacement is readable
"$I" audit export >"$W/trail.csv"
grep -q "$NAME" "$W/trail.csv" && fail "the name is still in audit export"
"$I" history IOH-001 cons_version >"$W/hist"
grep -q "$NAME" "$W/hist" && fail "the name is still in the history"
grep -q -- "-> v2  reason: patient's name typed" "$W/hist" || fail "the replacement is not readable: $(cat "$W/hist")"
[ "$(grep -c '\[redacted\]' "$W/hist")" -ge 3 ] || fail "history: $(cat "$W/hist")"
"$I" show IOH-001 --json | grep -q '"cons_version": "v2"' || fail "the value is not the replacement"
"$I" export odm --out "$W/s.xml" >/dev/null
grep -q "$NAME" "$W/s.xml" && fail "the name is in the ODM export"
grep -q '\[redacted\]' "$W/s.xml" || fail "the ODM export does not show the redaction"
# the redaction is audited, with its reason and count, by the admin; the rows did not change
tail -1 "$W/trail.csv" | grep -q ",admin,redact,IOH-001,screening_arm_1,0,cons_version,,4 audited value(s) masked,patient's name typed in a free-text field," ||
    fail "the redact row: $(tail -1 "$W/trail.csv")"
[ "$(test_sql "$IOHEME_DB" "SELECT count(*) FROM audit WHERE id > $rows_before AND action IN ('update', 'redact')")" -eq 2 ] || fail "rows added: $(test_sql "$IOHEME_DB" "SELECT id, action FROM audit WHERE id > $rows_before")"
"$I" audit verify | grep -q "intact" || fail "the chain does not verify after the redaction"
# the text stays in the file alone (documented; on PostgreSQL in its rows): the chain needs the bytes
[ "$(test_sql "$IOHEME_DB" "SELECT count(*) FROM audit WHERE new_value LIKE '%$NAME%'")" -ge 1 ] ||
    fail "the stored rows changed (the chain could not prove them)"

# a name corrected away first, then the history redacted keeping the value already there: the
# row that set that value stays readable, so the audited ODM's last ItemData is the value held
# and it comes back through `import odm`
"$I" set IOH-002 screening "cons_version=v3 $NAME" --reason "typed" >/dev/null
"$I" set IOH-002 screening "cons_version=v3" --reason "name removed" >/dev/null
"$I" redact IOH-002 screening cons_version --value v3 --reason "patient's name in the history" >/dev/null
"$I" history IOH-002 cons_version >"$W/hist2"
grep -q "$NAME" "$W/hist2" && fail "the name is still in IOH-002's history"
grep -q -- "-> v3  reason: name removed" "$W/hist2" || fail "the value held is not readable: $(cat "$W/hist2")"
"$I" export odm --out "$W/s2.xml" >/dev/null
python3 - "$W/s2.xml" <<'PY' || fail "ODM: the last ItemData of IOH-002's cons_version is not the value held"
import sys, xml.etree.ElementTree as ET
ns = '{http://www.cdisc.org/ns/odm/v1.3}'
subj = [s for s in ET.parse(sys.argv[1]).iter(ns + 'SubjectData') if s.get('SubjectKey') == 'IOH-002'][0]
vals = [i.get('Value') for i in subj.iter(ns + 'ItemData') if i.get('ItemOID') == 'I.cons_version']
assert vals and vals[-1] == 'v3' and '[redacted]' in vals, vals
PY

# a backup restored elsewhere keeps the redaction (PostgreSQL: backup and restore are SQLite's;
# the verified SQLite copy `ioheme migrate` makes is the copy the rest of ioheme reads)
if ! on_pg; then
    "$I" backup "$W/b.db" >/dev/null
    "$I" restore "$W/b.db" --db "$W/r.db" >/dev/null
else
    "$I" migrate --from "$IOHEME_DB" --to "$W/r.db" >/dev/null || fail "migrate to a SQLite copy"
fi
"$I" audit export --db "$W/r.db" | grep -q "$NAME" && fail "the restored copy shows the name"
echo "redact: ok"
