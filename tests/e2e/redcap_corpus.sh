#!/bin/sh
# Every dictionary of the REDCap corpus (tests/fixtures/redcap-corpus/: real projects written by
# other people, byte-for-byte copies of public files, each case's SOURCE.tsv names its source)
# through `ioheme protocol check`, with the case's events export and instrument-event mapping
# when it has them. A case either loads, and then what was loaded equals the CSV field by field
# (redcap_corpus.py), or fails with exactly the first error listed below: the count that loads
# measures progress on issue 12, and a regression in either direction fails the test. The cases
# of the development corpus that are not in the repository (their sources state no licence) run
# too when it is there: $IOHEME_REDCAP_CORPUS, else ../shared/redcap-corpus beside the source.
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}" "${IOHEME_FIXTURES:?}"
corpus="$IOHEME_FIXTURES/redcap-corpus"
extra="${IOHEME_REDCAP_CORPUS:-$IOHEME_SRC/../shared/redcap-corpus}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The cases that do not load, each with its first error: rarelink-cdm and redcuploads have a
# malformed header cell, which REDCap refuses too (docs/redcap.md).
expected_failures='
rarelink-cdm	dictionary.csv:1:1: header '"'1'"' should be '"'Variable / Field Name'"'
redcuploads	dictionary.csv:1:12: header '"'Branching Logic (Show field only if)'"' should be '"'Branching Logic (Show field only if...)'"'
'
# of the 16 cases in the repository; of the 6 others when the development corpus is there
expected_loaded=15
expected_loaded_extra=5

loaded=0
cases=0
check_case() { # DIR
    dir=$1
    case=$(basename "$dir")
    cases=$((cases + 1))
    # the fixtures are the public files unchanged: each matches the SHA-256 its SOURCE.tsv gives
    tail -n +2 "$dir/SOURCE.tsv" | while IFS='	' read -r role file repo path commit sha bytes; do
        [ "$(sha256sum "$dir/$file" | cut -d' ' -f1)" = "$sha" ] ||
            fail "$case/$file ($role) differs from $repo:$path@$commit"
    done
    p="$tmp/$case"
    mkdir "$p"
    cp "$dir/dictionary.csv" "$p/"
    [ ! -f "$dir/redcap_events.csv" ] || cp "$dir/redcap_events.csv" "$p/events.csv"
    [ ! -f "$dir/redcap_mapping.csv" ] || cp "$dir/redcap_mapping.csv" "$p/form_events.csv"
    # hbcd-hbn-sample comes from a longitudinal project whose events file its source does not
    # carry; its logic names one event, screening_arm_1: that event, as REDCap exports events
    if [ "$case" = hbcd-hbn-sample ]; then
        printf 'event_name,arm_num,unique_event_name,custom_event_label\nScreening,1,screening_arm_1,\n' \
            >"$p/events.csv"
    fi
    want=$(printf '%s\n' "$expected_failures" | awk -F '\t' -v c="$case" '$1 == c { print $2 }')
    if "$IOHEME" protocol check "$p" >"$tmp/out" 2>"$tmp/err"; then
        [ -z "$want" ] || fail "$case loads now; take it off the expected failures"
        "$IOHEME" protocol show "$p" --json >"$tmp/show.json" || fail "$case: show"
        python3 "$IOHEME_SRC/tests/e2e/redcap_corpus.py" "$p/dictionary.csv" "$tmp/show.json" ||
            fail "$case: what was loaded differs from the dictionary"
        # what loads but cannot behave as in REDCap says so, per field
        if grep -q ',sql,' "$p/dictionary.csv"; then
            grep -q "^$p/dictionary.csv:[0-9]*:4: warning: field '[a-z0-9_]*': sql field: " \
                "$tmp/err" || fail "$case: no warning for its sql field"
        fi
        # BioPortal lookups, JavaScript calcs, and bounds read from another field ("[field]",
        # "[event][field]") that name no field or event the project has: one warning per field
        # and bound, counted from the CSV by python (a bound naming a field that is there is
        # checked, as "today" and "now" are: no warning)
        python3 - "$p/dictionary.csv" "$tmp/err" "$p/events.csv" <<'PY' || fail "$case: warnings differ"
import csv, os, re, sys
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))[1:]
err = open(sys.argv[2]).read()
events = set()
if os.path.exists(sys.argv[3]):
    events = {e['unique_event_name'] for e in csv.DictReader(open(sys.argv[3], encoding='utf-8-sig', newline=''))}
fields = {r[0]: r[3] for r in rows if len(r) > 3}
dyn = re.compile(r'^(?:\[([a-z0-9_]+)\])?\[([a-z0-9_]+)\]$')
def unknown(m):
    ev, f = (m.group(1), m.group(2))
    return (ev is not None and ev not in events) or fields.get(f, 'checkbox') == 'checkbox'
want = {'BioPortal': sum(1 for r in rows if len(r) > 5 and r[3] == 'text' and r[5].startswith('BIOPORTAL:')),
        'JavaScript': sum(1 for r in rows if len(r) > 5 and r[3] == 'calc' and r[5].startswith('$')),
        'a field REDCap reads': 0,
        'names no value': sum(1 for r in rows for c in (8, 9)
                              if len(r) > c and (m := dyn.match(r[c].strip())) and unknown(m))}
for what, n in want.items():
    got = len(re.findall(r'^.*: warning: field .*' + what, err, re.M))
    if got != n:
        sys.exit(f'{sys.argv[1]}: {got} warnings about {what}, the CSV has {n}')
PY
        loaded=$((loaded + 1))
    else
        [ -n "$want" ] || fail "$case does not load: $(head -3 "$tmp/err")"
        got=$(head -1 "$tmp/err")
        [ "$got" = "$p/$want" ] || fail "$case: first error is
  $got
want
  $p/$want"
    fi
}

for dir in "$corpus"/*/; do
    check_case "$dir"
done
[ "$loaded" -eq "$expected_loaded" ] ||
    fail "$loaded of $cases corpus dictionaries load, want $expected_loaded"
if [ -d "$extra" ]; then
    for dir in "$extra"/*/; do
        [ -d "$corpus/$(basename "$dir")" ] || check_case "$dir"
    done
    expected_loaded=$((expected_loaded + expected_loaded_extra))
    [ "$loaded" -eq "$expected_loaded" ] ||
        fail "$loaded of $cases corpus dictionaries load (with $extra), want $expected_loaded"
fi
echo "ok: $loaded of $cases REDCap corpus dictionaries load and equal their CSV"
