#!/bin/sh
# A REDCap project with neither eligibility criteria nor a consent field (issue 12 §2: "a
# project without eligibility criteria still enrols"): the corpus's rr-simple dictionary as
# the protocol; a screened record enrols on request, audited — while the io-heme protocol,
# which has both, still refuses an enrolment without a verdict and consent.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL enrol_plain_project: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
plain=$(test_db plain)
io=$(test_db io)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1
I=$IOHEME
mkdir "$W/p"
cp "$IOHEME_SRC/tests/fixtures/redcap-corpus/rr-simple/dictionary.csv" "$W/p/"
"$I" init --db "$plain" --admin admin --protocol "$W/p" >/dev/null
"$I" screen --db "$plain" name_first=Ann >/dev/null || fail "screen"
"$I" enroll SCR-001 --db "$plain" | grep -q "SCR-001 enrolled as" || fail "a plain project does not enrol"
[ "$(test_sql "$plain" "SELECT count(*) FROM audit WHERE action = 'enroll'")" = 1 ] || fail "not audited"
# io-heme: a record with nothing answered is not enrolled
"$I" init --db "$io" --admin admin --protocol "$IOHEME_SRC/protocols/io-heme" >/dev/null
"$I" screen --db "$io" >/dev/null
set +e; "$I" enroll SCR-001 --db "$io" 2>"$W/err"; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "not eligible (screening incomplete)" "$W/err" || fail "io-heme enrolled without a verdict: $(cat "$W/err")"
echo "enrol_plain_project: ok"
