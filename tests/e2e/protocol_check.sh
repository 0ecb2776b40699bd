#!/bin/sh
# `ioheme protocol check|show|eval|js` on the fixture protocols (and on the study's protocol
# when the tree has one): exit statuses, the ok line, errors as file:line:column.
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}" "${IOHEME_FIXTURES:?}"
dicts="$IOHEME_FIXTURES/dict"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$IOHEME" protocol check "$dicts/good") || fail "good fixture rejected"
[ "$out" = "ok: 25 fields, 3 forms, 3 events" ] || fail "good: '$out'"

st=0
"$IOHEME" protocol check "$dicts/bad_logic" >"$tmp/out" 2>"$tmp/err" || st=$?
[ "$st" -eq 3 ] || fail "bad_logic: exit $st, want 3"
[ ! -s "$tmp/out" ] || fail "bad_logic printed on stdout"
grep -qxF "$dicts/bad_logic/dictionary.csv:6:12: (Branching Logic, char 15): unknown field [agee]" \
    "$tmp/err" || fail "bad_logic: no error for [agee]: $(cat "$tmp/err")"
grep -qxF "ioheme: protocol check: 7 errors in $dicts/bad_logic" "$tmp/err" || fail "count"

st=0
"$IOHEME" protocol check "$dicts/bad_events" 2>"$tmp/err" || st=$?
[ "$st" -eq 3 ] || fail "bad_events: exit $st"
grep -qF "form_events.csv:5:3: unknown form 'adverse_events'" "$tmp/err" || fail "bad_events"

st=0
"$IOHEME" protocol check "$tmp/nowhere" 2>"$tmp/err" || st=$?
[ "$st" -ne 0 ] && [ "$st" -ne 3 ] || fail "missing folder: exit $st"

# show: default folder from $IOHEME_PROTOCOL; --json parses and lists every field
IOHEME_PROTOCOL="$dicts/good" "$IOHEME" protocol show >"$tmp/show" || fail "show"
grep -q "sbp .*integer \[40, 250\] hard (mmHg)" "$tmp/show" || fail "show: sbp line"
grep -q "choices: 1=Male | 2=Female" "$tmp/show" || fail "show: choices"
"$IOHEME" protocol show "$dicts/good" --json >"$tmp/show.json" || fail "show --json"
node -e '
const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
if (p.fields.length !== 25 || p.forms.length !== 3 || p.events.length !== 3) process.exit(1);
const sbp = p.fields.find(f => f.name === "sbp");
if (sbp.min !== "40" || sbp.max !== "250" || !sbp.minmax_hard) process.exit(2);
if (p.forms[1].repeats_at[0] !== "day0_arm_1") process.exit(3);
' "$tmp/show.json" || fail "show --json content ($?)"

# eval and js
[ "$("$IOHEME" protocol eval '[a] * 2 + 1' a=20)" = "41" ] || fail "eval"
[ "$("$IOHEME" protocol eval '[a] + 1')" = "" ] || fail "eval blank"
[ "$("$IOHEME" protocol eval --json '[a] + 1')" = "null" ] || fail "eval --json blank"
st=0
"$IOHEME" protocol eval '[a] +' 2>"$tmp/err" || st=$?
[ "$st" -eq 3 ] || fail "eval parse error: exit $st"
grep -q "column 6: unexpected end of expression" "$tmp/err" || fail "eval error text"
[ "$("$IOHEME" protocol js '[a] = 1')" = 'L.eq(L.v(null,"a",null),1)' ] || fail "js"

# with --protocol, calc fields are computed: age 70 (1954-01-10 .. 2024-03-01) is ineligible
[ "$("$IOHEME" protocol eval --protocol "$dicts/good" '[age]' dob=1954-01-10 scr_date=2024-03-01)" = 70 ] ||
    fail "eval --protocol age"
[ "$("$IOHEME" protocol eval --protocol "$dicts/good" '[eligible]' dob=1954-01-10 \
     scr_date=2024-03-01 icu=1 sex=1)" = 0 ] || fail "eval --protocol eligible"
st=0
"$IOHEME" protocol eval --protocol "$dicts/good" '[agee] > 1' 2>"$tmp/err" || st=$?
[ "$st" -eq 3 ] && grep -q "column 1: unknown field \[agee\]" "$tmp/err" || fail "eval --protocol ref"

# the study's own protocol, when this tree has it
if [ -f "$IOHEME_SRC/protocols/io-heme/dictionary.csv" ]; then
    "$IOHEME" protocol check "$IOHEME_SRC/protocols/io-heme" | grep -q '^ok: ' ||
        fail "protocols/io-heme does not pass the check"
fi
echo ok
