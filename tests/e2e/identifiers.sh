#!/bin/sh
# Identifier fields encrypted at rest and shown only to roles that may (P11-35): the protocol's
# hospital number (scr_mrn, `Identifier? = y`) saved through the CLI is nowhere in the database
# file, its WAL or a backup in clear — neither the value nor its audit rows — while the
# coordinator and the monitor read it; a data manager and a statistician see it masked, in
# `show`, the record's history and `audit export`; the analysis dataset never carries it; the
# key lives in DATABASE.key (0600); a wrong key file is refused, a missing one leaves the value
# unreadable and refuses new identifiers; rotation re-encrypts the values and keeps the old
# rows readable; the chain verifies throughout. On PostgreSQL the key is $IOHEME_KEY_FILE, and
# "nowhere in clear" is checked in a pg_dump of the database and the SQLite copy `ioheme
# migrate` makes of it (there is no file, WAL or backup there).
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL identifiers: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme" IOHEME_DB
KEY="$W/s.db.key"
if on_pg; then KEY=$IOHEME_KEY_FILE; fi
I=$IOHEME
MRN=MRN-55821-ZK
# each user's commands sign in with an API token of theirs for the study (testdb.sh)
as() { u=$1; shift; as_token "$IOHEME_DB" "$u" "$u-pass-1" "$I" "$@"; }

IOHEME_PASSWORD=admin-pass-1 "$I" init --admin admin --synthetic >/dev/null
use_token "$IOHEME_DB" admin admin-pass-1
"$I" simulate --patients 2 --seed 7 >/dev/null
for r in coordinator monitor data_manager statistician; do
    printf '%s-pass-1\n' "$r" | "$I" user add "$r" --role "$r" >/dev/null
done
[ -e "$KEY" ] && fail "a key before any identifier"
as coordinator set IOH-001 screening "scr_mrn=$MRN" --reason "hospital number added" >/dev/null
[ "$(stat -c %a "$KEY")" = 600 ] || fail "key file mode $(stat -c %a "$KEY")"

# at rest: nowhere in clear
if ! on_pg; then
    grep -a -q "$MRN" "$W/s.db" "$W/s.db-wal" 2>/dev/null && fail "the hospital number is in the database file in clear"
else
    "$(dirname "$TESTDB_PSQL")/pg_dump" "$IOHEME_DB" >"$W/dump.sql" || fail "pg_dump"
    grep -q "enc1:" "$W/dump.sql" || fail "the dump does not hold the ciphertext"
    grep -a -q "$MRN" "$W/dump.sql" && fail "the hospital number is in the database in clear"
fi
[ "$(test_sql "$IOHEME_DB" "SELECT count(*) FROM value WHERE field = 'scr_mrn' AND value LIKE 'enc1:%'")" = 1 ] || fail "the value is not stored encrypted"
[ "$(test_sql "$IOHEME_DB" "SELECT count(*) FROM audit WHERE field = 'scr_mrn' AND new_value LIKE 'enc1:%'")" = 1 ] || fail "the audit row is not encrypted"
if ! on_pg; then
    "$I" backup "$W/b.db" >/dev/null
else
    "$I" migrate --from "$IOHEME_DB" --to "$W/b.db" >/dev/null # PostgreSQL's copy to a file
fi
grep -a -q "$MRN" "$W/b.db" && fail "the backup holds it in clear"

# who sees it
for r in coordinator monitor; do
    as "$r" show IOH-001 | grep -q "scr_mrn *$MRN" || fail "$r does not see it"
done
"$I" show IOH-001 | grep -q "scr_mrn *$MRN" || fail "admin does not see it"
for r in data_manager statistician; do
    as "$r" show IOH-001 >"$W/show.$r"
    grep -q "$MRN" "$W/show.$r" && fail "$r sees it in show"
    grep -q "scr_mrn *••• (identifier)" "$W/show.$r" || fail "$r: not masked: $(grep scr_mrn "$W/show.$r")"
done
as data_manager history IOH-001 scr_mrn | grep -q "$MRN" && fail "data_manager sees it in history"
as data_manager audit export >"$W/trail.dm"
grep -q "$MRN" "$W/trail.dm" && fail "data_manager's audit export carries it"
grep -q "scr_mrn,,••• (identifier)" "$W/trail.dm" || fail "data_manager's audit export does not mask it"
as monitor audit export | grep -q "scr_mrn,,$MRN" || fail "the monitor's audit export does not show it"
as statistician dataset --out "$W/ds" >/dev/null
grep -r -q -e "$MRN" -e scr_mrn "$W/ds" && fail "the analysis dataset carries the identifier"
as statistician export odm --out "$W/st.xml" >"$W/out" || fail "statistician's ODM export"
grep -q -e "$MRN" -e "(identifier)" "$W/st.xml" && fail "the statistician's ODM export carries the identifier or its mask"
grep -q "left out 1 identifier value" "$W/out" || fail "not said: $(cat "$W/out")"
"$I" audit verify | grep -q intact || fail "chain"

# a wrong key file is refused; a missing one leaves the value unreadable and refuses new ones
cp "$KEY" "$W/good.key"
printf '1 %064d\n' 0 >"$KEY"
set +e; "$I" show IOH-001 >/dev/null 2>"$W/err"; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "is not this database's key 1" "$W/err" || fail "a wrong key was accepted: $(cat "$W/err")"
rm "$KEY"
"$I" show IOH-001 | grep -q "scr_mrn *(identifier: key missing)" || fail "no key: $("$I" show IOH-001 | grep scr_mrn)"
set +e; "$I" set IOH-002 screening scr_mrn=MRN-1 --reason x >/dev/null 2>"$W/err"; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "is missing" "$W/err" || fail "a new identifier without the key file: exit $rc $(cat "$W/err")"
# an export that would carry identifiers refuses rather than write the placeholder as the value,
# and leaves no file; without identifiers it goes on
for x in "export odm --out $W/nokey.xml" "export redcap --out $W/nokey"; do
    set +e
    # shellcheck disable=SC2086
    "$I" $x >/dev/null 2>"$W/err"
    rc=$?
    set -e
    [ "$rc" -eq 10 ] && grep -q "has no key 1, which encrypted identifier values" "$W/err" ||
        fail "$x without the key: exit $rc $(cat "$W/err")"
done
[ ! -e "$W/nokey.xml" ] && [ ! -e "$W/nokey" ] || fail "a refused export left files: $(ls "$W")"
"$I" export odm --deidentified --out "$W/nokey-deid.xml" >/dev/null || fail "a de-identified export needs no key"
as statistician dataset --out "$W/nokey-ds" >/dev/null || fail "a dataset without identifiers needs no key"
cp "$W/good.key" "$KEY"

# rotation: a second key, the value re-encrypted, the old audit row still readable
old=$(test_sql "$IOHEME_DB" "SELECT value FROM value WHERE field = 'scr_mrn'")
"$I" key rotate --reason "annual rotation (SOP-IT-7)" >"$W/out"
grep -q "1 identifier value(s) re-encrypted" "$W/out" || fail "rotate: $(cat "$W/out")"
[ "$(wc -l <"$KEY")" -eq 2 ] || fail "the key file does not hold two keys"
new=$(test_sql "$IOHEME_DB" "SELECT value FROM value WHERE field = 'scr_mrn'")
[ "$old" != "$new" ] && case $new in enc1:2:*) ;; *) false ;; esac || fail "not re-encrypted with key 2: $new"
"$I" show IOH-001 | grep -q "scr_mrn *$MRN" || fail "after rotation the value does not read"
"$I" audit export | grep -q "scr_mrn,,$MRN" || fail "after rotation the old audit row does not read"
"$I" audit export | grep -q ",key_rotate,.*annual rotation" || fail "rotation not audited"
"$I" audit verify | grep -q intact || fail "chain after rotation"
# a key file holding a key this database never recorded (left from another study; on PostgreSQL
# the test's one IOHEME_KEY_FILE, shared): the first identifier records that key's check value,
# so another key of the same id is refused later instead of misreading the value
IOHEME_DB=$(test_db s2)
export IOHEME_DB
K2=$W/s2.db.key
if on_pg; then K2=$IOHEME_KEY_FILE; else cp "$KEY" "$K2"; fi
IOHEME_PASSWORD=admin-pass-1 "$I" init --admin admin --synthetic >/dev/null
use_token "$IOHEME_DB" admin admin-pass-1
"$I" simulate --patients 2 --seed 7 >/dev/null
"$I" set IOH-001 screening scr_mrn=MRN-2 --reason "entered late" >/dev/null
case $(test_sql "$IOHEME_DB" "SELECT value FROM value WHERE field = 'scr_mrn'") in
enc1:2:*) ;;
*) fail "the second study's identifier is not under the key file's key 2" ;;
esac
test_sql "$IOHEME_DB" "SELECT value FROM meta WHERE key = 'identifier_keys'" | grep -q "^2:" ||
    fail "the key file's key 2 was used without its check value recorded"
cp "$K2" "$W/k2.good"
{ head -1 "$W/k2.good"; printf '2 %064d\n' 0; } >"$K2"
set +e; "$I" show IOH-001 >/dev/null 2>"$W/err"; rc=$?; set -e
[ "$rc" -ne 0 ] && grep -q "is not this database's key 2" "$W/err" ||
    fail "another key 2 was accepted: exit $rc $(cat "$W/err")"
cp "$W/k2.good" "$K2"
"$I" show IOH-001 | grep -q "scr_mrn *MRN-2" || fail "the second study's value does not read"
"$I" audit verify | grep -q intact || fail "chain of the second study"

# two processes, two key files, a third study whose database has recorded no key: the server
# (one worker thread, whose connection the sign-in opens, and the writer's, opened at start)
# loads key file A, its key 1 unrecorded; the command line then records key file B's key 1
# with an identifier; the server's identifier must be refused, not recorded as a second key 1
# (the database would then refuse every key 1 on every open)
IOHEME_DB=$(test_db s3)
export IOHEME_DB
IOHEME_PASSWORD=admin-pass-1 "$I" init --admin admin --synthetic >/dev/null
use_token "$IOHEME_DB" admin admin-pass-1
"$I" simulate --patients 2 --seed 7 >/dev/null
printf '1 %s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$W/a.key"
printf '1 %s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$W/b.key"
chmod 600 "$W/a.key" "$W/b.key"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
IOHEME_KEY_FILE=$W/a.key "$I" serve --listen "127.0.0.1:$PORT" --threads 1 >/dev/null 2>&1 &
SRV=$!
trap 'kill "$SRV" 2>/dev/null || true; rm -rf "$W"' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
C=$(curl -s -c "$W/jar" -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin-pass-1"}' \
    "http://127.0.0.1:$PORT/api/v1/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
IOHEME_KEY_FILE=$W/b.key "$I" set IOH-001 screening scr_mrn=MRN-B --reason "entered late" >/dev/null
code=$(curl -s -o "$W/api" -w '%{http_code}' -b "$W/jar" -H "X-CSRF-Token: $C" -H 'Content-Type: application/json' \
    -d '{"event":"screening_arm_1","values":{"scr_mrn":"MRN-A"},"reason":"entered late"}' \
    "http://127.0.0.1:$PORT/api/v1/records/IOH-002/values")
kill "$SRV"; wait "$SRV" 2>/dev/null || true
# an integrity error: 500 with the detail in the server's log only (not the client's fault)
[ "$code" = 500 ] && grep -q '"code":"integrity"' "$W/api" ||
    fail "the server wrote with a second key 1: $code $(cat "$W/api")"
[ "$(test_sql "$IOHEME_DB" "SELECT value FROM meta WHERE key = 'identifier_keys'" | tr ',' '\n' | grep -c '^1:')" = 1 ] ||
    fail "two check values for key 1: $(test_sql "$IOHEME_DB" "SELECT value FROM meta WHERE key = 'identifier_keys'")"
IOHEME_KEY_FILE=$W/b.key "$I" show IOH-001 | grep -q "scr_mrn *MRN-B" || fail "key file B no longer reads its value"

# one key file, shared: a server started before the study had any key (its connections opened
# with none) must use the key the command line makes with the first identifier — read values
# written with it and write its own with it — not make a second key 1 of its own (which the
# database refused: every identifier written through that server failed until it restarted)
IOHEME_DB=$(test_db s4)
export IOHEME_DB IOHEME_KEY_FILE="$W/c.key"
IOHEME_PASSWORD=admin-pass-1 "$I" init --admin admin --synthetic >/dev/null
use_token "$IOHEME_DB" admin admin-pass-1
"$I" simulate --patients 3 --seed 7 >/dev/null
printf 'coordinator-pass-1\n' | "$I" user add coordinator --role coordinator >/dev/null
"$I" serve --listen "127.0.0.1:$PORT" --threads 2 >/dev/null 2>&1 &
SRV=$!
trap 'kill "$SRV" 2>/dev/null || true; rm -rf "$W"' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
C=$(curl -s -c "$W/jar4" -H 'Content-Type: application/json' -d '{"username":"coordinator","password":"coordinator-pass-1"}' \
    "http://127.0.0.1:$PORT/api/v1/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
[ -e "$W/c.key" ] && fail "a key before any identifier (s4)"
"$I" set IOH-001 screening scr_mrn=MRN-CLI --reason "entered late" >/dev/null
code=$(curl -s -o "$W/api" -w '%{http_code}' -b "$W/jar4" -H "X-CSRF-Token: $C" -H 'Content-Type: application/json' \
    -d '{"event":"screening_arm_1","values":{"scr_mrn":"MRN-WEB"},"reason":"entered late"}' \
    "http://127.0.0.1:$PORT/api/v1/records/IOH-002/values")
[ "$code" = 200 ] || fail "the server could not write an identifier with the key made by the command line: $code $(cat "$W/api")"
for n in 1 2 3 4; do # each worker thread's connection, whichever answers
    curl -s -b "$W/jar4" "http://127.0.0.1:$PORT/api/v1/records/IOH-001/forms/screening?event=screening_arm_1" >"$W/read$n"
done
# a rotation from the command line: the running server's next identifier uses key 2 (on a
# record with none yet: reading a value the rotation re-encrypted would fetch key 2 anyway)
"$I" key rotate --reason "policy" >/dev/null
code=$(curl -s -o "$W/api" -w '%{http_code}' -b "$W/jar4" -H "X-CSRF-Token: $C" -H 'Content-Type: application/json' \
    -d '{"event":"screening_arm_1","values":{"scr_mrn":"MRN-WEB3"},"reason":"entered late"}' \
    "http://127.0.0.1:$PORT/api/v1/records/IOH-003/values")
[ "$code" = 200 ] || fail "the server could not write after a rotation: $code $(cat "$W/api")"
kill "$SRV"; wait "$SRV" 2>/dev/null || true
stored=$(test_sql "$IOHEME_DB" "SELECT v.value FROM value v JOIN record r ON r.id = v.record_id WHERE r.study_id = 'IOH-003' AND v.field = 'scr_mrn'")
case $stored in enc1:2:*) ;; *) fail "the server kept writing with the old key after the rotation: ${stored%%:*}:$(echo "$stored" | cut -d: -f2)" ;; esac
for n in 1 2 3 4; do
    grep -q '"MRN-CLI"' "$W/read$n" || fail "the server did not read the command line's identifier: $(cut -c1-300 "$W/read$n")"
done
[ "$(wc -l <"$W/c.key")" = 2 ] || fail "the key file has $(wc -l <"$W/c.key") keys, not 2 (the first and the rotation's)"
"$I" show IOH-002 | grep -q "scr_mrn *MRN-WEB" && "$I" show IOH-003 | grep -q "scr_mrn *MRN-WEB3" ||
    fail "the server's identifiers do not read on the command line"
"$I" audit verify | grep -q intact || fail "chain of the fourth study"
echo "identifiers: ok"
