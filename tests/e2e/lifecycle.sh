#!/bin/sh
# From captured to locked, through the CLI (issue 11's "done when"): a soft flag becomes a query,
# the coordinator answers by correcting the value, the monitor closes it and verifies the
# planned values against source, the investigator signs the casebook, a signed value changes
# (the signature is shown invalid) and is signed again, the checklist passes, the PI approves and
# the database is locked; then every write path is refused (CLI set, import, query, SDV, sign,
# record lock, the API and the web form), the locked dataset is byte-identical across two runs
# with a manifest of SHA-256s, unlocking needs a reason, and the audit chain verifies.
# backends: sqlite postgresql
set -eu
I=$IOHEME
W=$(mktemp -d)
SRV=
trap 'if [ -n "$SRV" ]; then kill $SRV 2>/dev/null || true; fi; rm -rf "$W"' EXIT
fail() { echo "FAIL lifecycle: $1"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db study)
export IOHEME_DB IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1
export IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
# each user's commands sign in with an API token of theirs (testdb.sh), not a password check each
as() { as_token "$IOHEME_DB" "$@"; }
"$I" init --admin admin >/dev/null
use_token "$IOHEME_DB"
echo nurse-pass-1 | "$I" user add nurse --role coordinator >/dev/null
echo monitor-pass-1 | "$I" user add mon --role monitor >/dev/null
echo drli-pass-1 | "$I" user add drli --role investigator --full-name "Dr Li Wei" >/dev/null
N="as nurse nurse-pass-1 $I"
$N screen scr_date=2026-11-20 scr_by=3 age=54 sex=2 heme_disease=1 heme_dx=1 qual_cat1___1=1 \
    qual_cat2___0=1 qual_cat3___0=1 qual_cat4___0=1 qual_cat5___0=1 scr_site_plan=2 ci_fracture=0 \
    ci_prosthesis=0 ci_recent_io=0 ci_skin=0 ci_landmarks=0 ci_osteoporosis=0 ci_oi=0 \
    scr_consent=1 >/dev/null
$N enroll SCR-001 cons_type=1 "cons_dt=2026-11-20 10:30" >/dev/null
$N set IOH-001 io_procedure:1 att_placement=1 att_number=1 att_site=2 att_side=1 \
    "att_start_dt=2026-11-20 10:41:05" "att_end_dt=2026-11-20 10:41:50" att_outcome=1 >/dev/null
# 1. a soft flag becomes a system query
$N set IOH-001 screening cons_withdrawn=0 >/dev/null
$N set IOH-001 t0 hd_status=1 "hd_dt=2026-11-20 10:45" hd_sbp=400 hd_dbp=70 hd_map_inv=0 \
    hd_hr=88 hd_vaso=0 >/dev/null
q=$("$I" query list --json | python3 -c 'import json,sys; q=json.load(sys.stdin); print(q[0]["id"] if q and q[0]["origin"]=="system" else "")')
[ -n "$q" ] || fail "the out-of-range SBP opened no system query"
# 2. answered by correcting the value; 3. the monitor closes it
$N query answer "$q" --message "typo: 140 on the printout" hd_sbp=140 >/dev/null
as mon monitor-pass-1 "$I" query close "$q" --message "ok" >/dev/null
# every form with data complete
for f in "screening screening" "screening consent" "io_procedure:1 io_attempt" "t0 haemodynamics"; do
    set -- $f
    $N set IOH-001 "$1" --form "$2" --status complete >/dev/null || fail "completing $2"
done
"$I" db freeze --reason "data entry closed" >/dev/null
$N set IOH-001 t0 hd_rr=20 >/dev/null 2>"$W/err" && fail "data entry on a frozen database"
grep -q "frozen" "$W/err" || fail "the refusal does not say frozen"
# 4. SDV of the planned values (the primary endpoint's attempt form among them)
for f in "screening screening" "screening consent" "io_procedure:1 io_attempt" "t0 haemodynamics"; do
    set -- $f
    as mon monitor-pass-1 "$I" sdv verify IOH-001 "$1" --form "$2" >/dev/null
done
"$I" sdv status --json | grep -q '"plan_met": true' || fail "the SDV plan is not met"
# 5. the investigator signs; a signed value changes (after unfreezing) and is signed again
D="env IOHEME_USER=drli IOHEME_PASSWORD=drli-pass-1 $I" # a signature asks for the password
$D sign IOH-001 --meaning casebook_review >/dev/null
"$I" db unfreeze --reason "late correction from the source" >/dev/null
$N set IOH-001 t0 hd_dbp=72 --reason "source: monitor printout" >/dev/null
"$I" sign --list --record IOH-001 --json | python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if not s[-1]["valid"] else 1)' ||
    fail "the signature holds after a signed value changed"
"$I" db freeze --reason "data entry closed again" >/dev/null
as mon monitor-pass-1 "$I" sdv verify IOH-001 t0 --form haemodynamics >/dev/null 2>&1 || true
$D sign IOH-001 --meaning casebook_review >/dev/null
# 6. the checklist: not yet (no PI approval), then it passes
"$I" db lock >"$W/out" 2>&1 && fail "locked without the PI's approval"
grep -q "FAIL signatures" "$W/out" || fail "the checklist does not name the missing approval"
$D sign --study --meaning db_lock_approval >/dev/null
"$I" db lock >"$W/out" || { cat "$W/out"; fail "the checklist did not pass"; }
grep -q "checklist: passed" "$W/out" || fail "checklist output"
"$I" db status | grep -q "locked (LOCK-1" || fail "db status"
# 7. every write path is refused
$N set IOH-001 t0 hd_rr=21 >/dev/null 2>&1 && fail "set on a locked database"
printf 'record_id,redcap_event_name,hd_rr\nIOH-001,t0_arm_1,22\n' >"$W/imp.csv"
$N import "$W/imp.csv" >/dev/null 2>&1 && fail "import on a locked database"
as mon monitor-pass-1 "$I" query open IOH-001 t0 --field hd_rr --message x >/dev/null 2>&1 && fail "query on a locked database"
$D sign IOH-001 --meaning casebook_review >/dev/null 2>&1 && fail "sign on a locked database"
"$I" lock IOH-001 >/dev/null 2>&1 && fail "record lock on a locked database"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$I" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
SRV=$!
for i in $(seq 50); do curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
C=$(curl -s -c "$W/jar" -H 'Content-Type: application/json' -d '{"username":"nurse","password":"nurse-pass-1"}' \
    "http://127.0.0.1:$PORT/api/v1/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
code=$(curl -s -o "$W/api" -w '%{http_code}' -b "$W/jar" -H "X-CSRF-Token: $C" -H 'Content-Type: application/json' \
    -d '{"event":"t0_arm_1","values":{"hd_rr":23}}' "http://127.0.0.1:$PORT/api/v1/records/IOH-001/values")
[ "$code" = 409 ] && grep -q "locked" "$W/api" || fail "API save on a locked database: $code $(cat "$W/api")"
code=$(curl -s -o "$W/page" -w '%{http_code}' -b "$W/jar" --data-urlencode "csrf=$C" --data-urlencode "hd_rr=24" \
    "http://127.0.0.1:$PORT/records/IOH-001/forms/t0_arm_1/haemodynamics")
[ "$code" = 409 ] || fail "web form save on a locked database: $code"
kill $SRV; wait $SRV 2>/dev/null || true
"$I" show IOH-001 --json | grep -q '"hd_rr"' && fail "a refused save left a value"
# 8. the locked dataset: byte-identical across two runs, stamped with the lock
"$I" dataset --out "$W/d1" >/dev/null
"$I" dataset --out "$W/d2" >/dev/null
diff -r "$W/d1" "$W/d2" >/dev/null || fail "two datasets of the locked database differ"
grep -q '"lock_id": "LOCK-1"' "$W/d1/manifest.json" || fail "manifest lock id"
# every file the export wrote is listed with its SHA-256 (the loader dataset.R for csv; each
# table's .dta for stata), and nothing else
"$I" dataset --format stata --out "$W/d3" >/dev/null
for d in d1 d3; do
    (cd "$W/$d" && python3 -c '
import json, hashlib, os
m = json.load(open("manifest.json"))
for f in m["files"]:
    assert hashlib.sha256(open(f["file"], "rb").read()).hexdigest() == f["sha256"], f["file"]
listed = sorted(f["file"] for f in m["files"])
there = sorted(n for n in os.listdir(".") if n != "manifest.json")
assert listed == there, (listed, there)
') || fail "$d: the manifest does not list every file with its hash"
done
grep -q '"file": "dataset.R"' "$W/d1/manifest.json" || fail "csv manifest: no dataset.R"
grep -q '"file": "subjects.dta"' "$W/d3/manifest.json" || fail "stata manifest: no subjects.dta"
# 9. unlocking needs a reason; the chain and the signatures verify
"$I" db unlock >/dev/null 2>&1 && fail "unlocked without a reason"
"$I" audit verify | grep -q "signatures: 2 valid, 1 invalidated" || fail "audit verify"
"$I" audit export | grep -q ",db_lock," || fail "the lock is not in the trail"
echo "lifecycle: ok"
