#!/bin/sh
# "today" and "now" as a field's min or max (REDCap's date bounds, issue 12 §1): checked when the
# value is entered, on the site's clock (the study's time zone, not the machine's), through the
# one write path: an import of a date after the site's today is saved and flagged for review
# (rule max), with @FORCE-MINMAX refused naming the bound and the date it read, nothing saved;
# the site's today itself is fine. The sites are Pacific/Kiritimati (UTC+14) and
# Pacific/Pago_Pago (UTC-11): 25 hours apart, their dates always differ, so a check on any
# other clock than the site's fails one of the two. The expected dates come from python's
# zoneinfo.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL clock_bounds: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1
mkdir "$W/p"
cat >"$W/p/dictionary.csv" <<CSV
$REDCAP_HEADER
record_id,visit,,text,ID,,,,,,,,,,,,,
lmp,visit,,text,"Last period",,,date_dmy,,today,,,,,,,,
onset,visit,,text,"Onset",,,date_ymd,,today,,,,,,,,@FORCE-MINMAX
CSV
day() { # ZONE OFFSET_DAYS FORMAT
    python3 -c 'import sys, datetime, zoneinfo
d = datetime.datetime.now(zoneinfo.ZoneInfo(sys.argv[1])).date() + datetime.timedelta(days=int(sys.argv[2]))
print(d.strftime(sys.argv[3]))' "$@"
}
sql_flag() { test_sql "$1" "SELECT v.value || '|' || coalesce(v.flag, '') FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = '$2' AND v.field = '$3'"; }

for zone in Pacific/Kiritimati Pacific/Pago_Pago; do
    db=$(test_db "$(echo "$zone" | tr -c 'a-zA-Z0-9\n' _)")
    "$IOHEME" init --db "$db" --admin admin --protocol "$W/p" --timezone "$zone" >/dev/null || fail "$zone: init"
    today_dmy=$(day "$zone" 0 %d-%m-%Y) today=$(day "$zone" 0 %Y-%m-%d)
    tomorrow_dmy=$(day "$zone" 1 %d-%m-%Y) tomorrow=$(day "$zone" 1 %Y-%m-%d)
    printf 'record_id,lmp,onset\n1,%s,%s\n2,%s,\n' "$today_dmy" "$today" "$tomorrow_dmy" >"$W/ok.csv"
    "$IOHEME" import "$W/ok.csv" --db "$db" --reason "from REDCap" >"$W/out" 2>&1 || fail "$zone: $(cat "$W/out")"
    [ "$(sql_flag "$db" 1 lmp)" = "$today|" ] || fail "$zone: the site's today flagged: $(sql_flag "$db" 1 lmp)"
    [ "$(sql_flag "$db" 1 onset)" = "$today|" ] || fail "$zone: the site's today refused or flagged"
    [ "$(sql_flag "$db" 2 lmp)" = "$tomorrow|max" ] || fail "$zone: tomorrow saved as '$(sql_flag "$db" 2 lmp)', want flagged max"
    printf 'record_id,onset\n3,%s\n' "$tomorrow" >"$W/bad.csv"
    set +e; "$IOHEME" import "$W/bad.csv" --db "$db" --reason "from REDCap" >"$W/out" 2>&1; rc=$?; set -e
    [ "$rc" -ne 0 ] && grep -q "field 'onset': $tomorrow is above the maximum today ($today)" "$W/out" ||
        fail "$zone: @FORCE-MINMAX tomorrow: exit $rc, $(cat "$W/out")"
    [ "$(test_sql "$db" "SELECT count(*) FROM record")" = 2 ] || fail "$zone: the refused import saved a record"
done
echo "clock_bounds: ok"
