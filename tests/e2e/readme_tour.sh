#!/bin/sh
# The README's tour, run as written: the ```sh block under "## A short tour", top to bottom, in
# a fresh shell (nothing from this environment but PATH's system directories and the built
# binary's folder), from the top of the checkout, stopping at the first command that fails.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(dirname "$IOHEME")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^## A short tour/ { t = 1; next } t && /^```sh$/ { on = 1; next } on && /^```$/ { exit }
     on { print }' "$src/README.md" >"$work/tour.sh"
[ -s "$work/tour.sh" ] || { echo "FAIL readme_tour: no \`\`\`sh block under '## A short tour'"; exit 1; }
# the tour expects build/ioheme under the checkout; a build elsewhere (build-asan) is linked in
mkdir "$work/src"
for f in "$src"/* ; do ln -s "$f" "$work/src/$(basename "$f")"; done
rm -f "$work/src/build"
ln -s "$bin" "$work/src/build"
mkdir "$work/tmp"
cd "$work/src"
if ! env -i HOME="$work" TMPDIR="$work/tmp" PATH=/usr/bin:/bin LANG=C.UTF-8 \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
    bash -e -x "$work/tour.sh" >"$work/out" 2>"$work/err"; then
    echo "FAIL readme_tour: the tour stops at:"; tail -5 "$work/err"; exit 1
fi
fail() { echo "FAIL readme_tour: $1"; exit 1; }
grep -q "verdict: eligible" "$work/out" || fail "SCR-001 is not eligible"
grep -q "verdict: not eligible (screen failure)" "$work/out" || fail "SCR-002 is not a screen failure"
grep -q "SCR-001 enrolled as IOH-001" "$work/out" || fail "no enrolment"
grep -q "att_outcome: 2 -> 1  reason: source: procedure note" "$work/out" || fail "history"
grep -q "imported .*2 rows" "$work/out" || fail "the sample REDCap CSV was not imported"
grep -q "restored restored.db from copy.db: .*equal to the backup's" "$work/out" || fail "the restore"
grep -q "^refused: locked$" "$work/out" || fail "a save to the locked form was not refused"
grep -q "^wrote redcap/: [0-9]* records in [0-9]* rows" "$work/out" || fail "the REDCap export"
grep -q "^0 change(s), 0 unsafe$" "$work/out" || fail "protocol diff of the protocol against itself"
grep -q "query 1 opened on IOH-001" "$work/out" || fail "query"
grep -q "signature 1: drli signed IOH-001" "$work/out" || fail "signature"
grep -q "audit trail intact" "$work/out" || fail "audit verify"
grep -q "signatures: 1 valid" "$work/out" || fail "signature check in audit verify"
d=$(ls -d "$work"/tmp/tmp.* | head -1)
for f in study.db copy.db demo.db trail.csv analysis/subjects.csv report/report.html report/results.json; do
    [ -s "$d/$f" ] || fail "the tour did not write $f"
done
grep -q '"synthetic": true' "$d/report/results.json" || fail "the training report is not marked synthetic"
echo "readme_tour: $(grep -c '^+ ioheme' "$work/err") commands ran as written"
