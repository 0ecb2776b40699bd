#!/bin/sh
# A REDCap project with neither eligibility criteria nor a consent field (issue 12 §2: "a
# project without eligibility criteria still enrols"): the corpus's rr-simple dictionary as
# the protocol; a screened record enrols on request, audited — while the io-heme protocol,
# which has both, still refuses an enrolment without a verdict and consent.
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL enrol_plain_project: $*"; exit 1; }
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1
I=$IOHEME
mkdir "$W/p"
cp "$IOHEME_SRC/tests/fixtures/redcap-corpus/rr-simple/dictionary.csv" "$W/p/"
"$I" init --db "$W/plain.db" --admin admin --protocol "$W/p" >/dev/null
"$I" screen --db "$W/plain.db" name_first=Ann >/dev/null || fail "screen"
"$I" enroll SCR-001 --db "$W/plain.db" | grep -q "SCR-001 enrolled as" || fail "a plain project does not enrol"
[ "$(sqlite3 "$W/plain.db" "SELECT count(*) FROM audit WHERE action = 'enroll'")" = 1 ] || fail "not audited"
# io-heme: a record with nothing answered is not enrolled
"$I" init --db "$W/io.db" --admin admin --protocol "$IOHEME_SRC/protocols/io-heme" >/dev/null
"$I" screen --db "$W/io.db" >/dev/null
set +e; "$I" enroll SCR-001 --db "$W/io.db" 2>"$W/err"; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "not eligible (screening incomplete)" "$W/err" || fail "io-heme enrolled without a verdict: $(cat "$W/err")"
echo "enrol_plain_project: ok"
