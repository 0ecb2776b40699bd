#!/bin/sh
# The report of a locked database is the lock's (issue 11; P11-19, P11-31): report.html and
# results.json carry the lock's identifier and its audit head, nothing depends on the clock, two
# runs give byte-identical folders (figures included), and manifest.json lists every file with
# its SHA-256. An unlocked database's report gets a manifest too, with null lock members.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL report_locked: $*"; exit 1; }
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
I=$IOHEME
. "$IOHEME_SRC/tests/e2e/testdb.sh"
D=$(test_db demo)
"$I" init --db "$D" --admin admin --synthetic >/dev/null
"$I" simulate --db "$D" --patients 12 --seed 7 >/dev/null

"$I" report --db "$D" --out "$W/open" >/dev/null
grep -q '"lock_id": null' "$W/open/manifest.json" || fail "unlocked: manifest lock_id not null"
grep -q '"lock": null' "$W/open/results.json" || fail "unlocked: results.json study.lock not null"

"$I" db freeze --db "$D" --reason "last patient out" >/dev/null
"$I" db lock --db "$D" --override "synthetic training database: checklist not applicable" >/dev/null
lock=$("$I" db status --db "$D" --json)
id=$(printf '%s' "$lock" | sed -n 's/.*"lock_id": "\([^"]*\)".*/\1/p')
head=$(printf '%s' "$lock" | sed -n 's/.*"lock_audit_head": "\([^"]*\)".*/\1/p')
at=$(printf '%s' "$lock" | sed -n 's/.*"locked_at": "\([^"]*\)".*/\1/p')
[ "$id" = LOCK-1 ] && [ ${#head} -eq 64 ] || fail "db status: $lock"

"$I" report --db "$D" --out "$W/r1" >/dev/null
sleep 1 # a second later, with the first run's export row in the trail
"$I" report --db "$D" --out "$W/r2" >/dev/null
diff -r "$W/r1" "$W/r2" >"$W/diff" || fail "two runs differ: $(head -c 600 "$W/diff")"

grep -q "\"id\": \"$id\"" "$W/r1/results.json" || fail "results.json lacks the lock id"
grep -q "\"head_hash\": \"$head\"" "$W/r1/results.json" || fail "results.json lacks the lock's audit head"
grep -q "\"snapshot_time\": \"$at\"" "$W/r1/results.json" || fail "results.json snapshot is not the lock's time"
grep -q "Locked database: <span class=\"lock-id\">$id</span>" "$W/r1/report.html" || fail "report.html lacks the lock id"
grep -q "$head" "$W/r1/report.html" || fail "report.html lacks the lock's audit head"
grep -q "\"lock_id\": \"$id\"" "$W/r1/manifest.json" || fail "manifest lacks the lock id"
grep -q "\"audit_head\": \"$head\"" "$W/r1/manifest.json" || fail "manifest lacks the audit head"

# the manifest lists every file of the folder but itself, each with its SHA-256
(cd "$W/r1" && find . -type f ! -path ./manifest.json | sed 's|^\./||' | LC_ALL=C sort) >"$W/files"
[ "$(wc -l <"$W/files")" -gt 10 ] || fail "too few files in the report: $(cat "$W/files")"
listed=$(grep -c '"file":' "$W/r1/manifest.json")
[ "$listed" -eq "$(wc -l <"$W/files")" ] || fail "manifest lists $listed files, the folder holds $(wc -l <"$W/files")"
while read -r f; do
    sum=$(sha256sum "$W/r1/$f" | cut -d' ' -f1)
    grep -A2 "\"file\": \"$f\"" "$W/r1/manifest.json" | grep -q "\"sha256\": \"$sum\"" ||
        fail "manifest: $f not listed with its SHA-256 $sum"
done <"$W/files"
"$I" audit verify --db "$D" >/dev/null || fail "audit verify"
echo "report_locked: ok ($(wc -l <"$W/files") files, byte-identical across runs)"
