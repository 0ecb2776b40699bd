#!/bin/sh
# Training/demo databases (issue 10, item 5): `simulate` refuses a study database, writing
# nothing; `init --synthetic` makes the only kind it fills, and that database's dataset, report
# and audit trail say "synthetic" (the web banner: tests/browser/data.mjs).
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL synthetic: $*"; exit 1; }
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
I=$IOHEME
. "$IOHEME_SRC/tests/e2e/testdb.sh"
STUDY=$(test_db study) DEMO=$(test_db demo) DEMO2=$(test_db demo2)

# a study database: refused with a clear message (exit 7, conflict), nothing written
"$I" init --db "$STUDY" --admin admin >"$W/out"
grep -q synthetic "$W/out" && fail "a study database called synthetic: $(cat "$W/out")"
# (the refused command's sign-in is its CLI session's "login" row, docs/security.md: not counted)
n0=$(test_sql "$STUDY" "SELECT count(*) FROM audit WHERE action <> 'login'")
set +e; "$I" simulate --db "$STUDY" --patients 3 --seed 1 >"$W/out" 2>"$W/err"; rc=$?; set -e
[ "$rc" -eq 7 ] || fail "simulate into a study database: exit $rc"
grep -q "ioheme: simulate: this is a study database.*init --synthetic" "$W/err" || fail "message: $(cat "$W/err")"
[ "$(test_sql "$STUDY" "SELECT count(*) FROM record")" = 0 ] || fail "simulate wrote records"
[ "$(test_sql "$STUDY" "SELECT count(*) FROM audit WHERE action <> 'login'")" = "$n0" ] || fail "simulate wrote audit rows"
"$I" dataset --db "$STUDY" --out "$W/sd" >"$W/out"
[ -e "$W/sd/SYNTHETIC-DATA.txt" ] && fail "a study dataset marked synthetic"
grep -q SYNTHETIC "$W/out" && fail "a study dataset reported synthetic"

# a training database: marked, audited, filled, and every output says so
"$I" init --db "$DEMO" --admin admin --synthetic >"$W/out"
grep -q "(synthetic: a training/demo database)" "$W/out" || fail "init output: $(cat "$W/out")"
"$I" init --db "$DEMO2" --admin admin --synthetic --json | grep -q '"synthetic": true' || fail "init --json"
"$I" simulate --db "$DEMO" --patients 3 --seed 1 >/dev/null
"$I" audit export --db "$DEMO" --out "$W/trail.csv" >/dev/null
grep -q ",synthetic,.*training/demo database" "$W/trail.csv" || fail "no synthetic row in the audit trail"
grep -q ",simulate," "$W/trail.csv" || fail "simulated rows lack source 'simulate'"
"$I" dataset --db "$DEMO" --out "$W/dd" >"$W/out"
grep -q "SYNTHETIC-DATA.txt (SYNTHETIC data" "$W/out" || fail "dataset output: $(cat "$W/out")"
grep -q "^SYNTHETIC DATA" "$W/dd/SYNTHETIC-DATA.txt" || fail "dataset marker file"
"$I" report --db "$DEMO" --out "$W/rep" >/dev/null
grep -q '"synthetic": true' "$W/rep/results.json" || fail "results.json not marked"
grep -q 'class="synthetic".*Synthetic data' "$W/rep/report.html" || fail "report.html not marked"
[ -e "$W/rep/dataset/SYNTHETIC-DATA.txt" ] || fail "the report's dataset not marked"
# a report from the exported files keeps the mark
"$I" report --dataset "$W/dd" --out "$W/rep2" >/dev/null
grep -q '"synthetic": true' "$W/rep2/results.json" || fail "report --dataset lost the mark"
"$I" report --dataset "$W/sd" --out "$W/rep3" >/dev/null
grep -q '"synthetic": false' "$W/rep3/results.json" || fail "a study report marked synthetic"
echo ok
