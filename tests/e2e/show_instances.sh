#!/bin/sh
# `ioheme show` lists every instance of a repeating form, however many: 300 infusion episodes
# imported for one patient (the protocol allows 999 per form and event) are all shown, in
# order, in the text and in --json (it used to stop at 256, silently).
# backends: sqlite postgresql
set -eu
I=$IOHEME
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL show_instances: $1"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db study)
export IOHEME_DB IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
"$I" init --admin admin >/dev/null
"$I" screen scr_date=2026-11-20 scr_by=3 age=54 sex=2 heme_disease=1 heme_dx=1 qual_cat1___1=1 \
    qual_cat2___0=1 qual_cat3___0=1 qual_cat4___0=1 qual_cat5___0=1 scr_site_plan=2 ci_fracture=0 \
    ci_prosthesis=0 ci_recent_io=0 ci_skin=0 ci_landmarks=0 ci_osteoporosis=0 ci_oi=0 \
    scr_consent=1 >/dev/null
"$I" enroll SCR-001 cons_type=1 "cons_dt=2026-11-20 10:30" >/dev/null
N=300
{
    echo "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,inf_placement,inf_volume"
    i=1
    while [ $i -le $N ]; do echo "IOH-001,io_procedure_arm_1,infusion,$i,1,$i"; i=$((i + 1)); done
} >"$W/inf.csv"
"$I" import "$W/inf.csv" --reason "episodes from the ICU chart" >/dev/null || fail "the import"
"$I" show IOH-001 --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
ev = [e for e in r['events'] if e['event'] == 'io_procedure_arm_1']
inf = [f for f in (ev[0]['forms'] if ev else []) if f['form'] == 'infusion']
got = [f['instance'] for f in inf]
assert got == list(range(1, $N + 1)), 'instances shown: %d, %s ... %s' % (len(got), got[:3], got[-3:])
assert all(f['values']['inf_volume'] == str(f['instance']) for f in inf), 'a volume is not its instance'
" || fail "--json does not list the $N instances in order"
n=$("$I" show IOH-001 | grep -c "inf_volume") || true
[ "$n" = $N ] || fail "the text lists $n instances' volumes, not $N"
echo "show_instances: ok"
