#!/bin/sh
# API tokens on the command line (docs/security.md, `ioheme token --help`): `token new` prints a
# token once, $IOHEME_TOKEN signs commands in as its user without a password (the role still
# decides: a coordinator's token changes data and may not manage users, exit 6), a token naming
# another user than --user/$IOHEME_USER is refused (exit 5), $IOHEME_PASSWORD wins over a token (a
# wrong one is refused even beside a good token), `token list` shows the token's id and never the
# token, `token revoke` ends it at once, another user's tokens need user_manage, the same token
# works on the JSON API, and a token use writes no login row. The trail verifies.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_DB
unset IOHEME_USER IOHEME_PASSWORD IOHEME_TOKEN IOHEME_PROTOCOL || true
I="$IOHEME"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { expect_exit "$@"; } # testdb.sh
as() { run_as "$@"; }
rows() { audit_rows "$1"; }

as admin admin-pass-1 "$I" init --admin admin --synthetic >/dev/null
echo "nurse-pass-1" | as admin admin-pass-1 "$I" user add nurse --role coordinator >/dev/null
as admin admin-pass-1 "$I" simulate --patients 2 --seed 3 >/dev/null

# ---- a token, printed once: 64 hex characters; --redcap 32 upper-case ones
expect 0 as nurse nurse-pass-1 "$I" token new
tok=$(cat "$W/out")
printf '%s' "$tok" | grep -Eq '^[0-9a-f]{64}$' || fail "token new printed '$tok'"
expect 0 as nurse nurse-pass-1 "$I" token new --redcap
grep -Eq '^[0-9A-F]{32}$' "$W/out" || fail "token new --redcap printed '$(cat "$W/out")'"
[ "$(rows "action = 'api_token' AND \"user\" = 'nurse'")" = 2 ] || fail "token issue not audited"

# ---- $IOHEME_TOKEN alone signs in as the token's user; no login row for it
logins=$(rows "action = 'login'")
expect 0 env IOHEME_TOKEN="$tok" "$I" set IOH-001 screening age=44 --reason "Source says 44"
[ "$(test_sql "$IOHEME_DB" "SELECT \"user\" FROM audit WHERE field = 'age' AND new_value = '44'")" = nurse ] ||
    fail "the change is not nurse's"
expect 0 env IOHEME_TOKEN="$tok" "$I" show IOH-001 --json
grep -q '"age"' "$W/out" || fail "show with a token printed no data"
[ "$(rows "action = 'login'")" = "$logins" ] || fail "a token use wrote a login row"
# the same user named is fine; another is refused, naming both
expect 0 env IOHEME_TOKEN="$tok" IOHEME_USER=nurse "$I" show IOH-001
expect 5 env IOHEME_TOKEN="$tok" IOHEME_USER=admin "$I" user list
grep -q "signs in nurse, not admin" "$W/err" || fail "no message naming both users: $(cat "$W/err")"
# the role decides as with a password: a coordinator manages no users (exit 6, audited)
denied=$(rows "action = 'denied' AND \"user\" = 'nurse'")
expect 6 env IOHEME_TOKEN="$tok" "$I" user list
[ "$(rows "action = 'denied' AND \"user\" = 'nurse'")" = $((denied + 1)) ] || fail "denial not audited"
# a password given wins: a wrong one is refused beside a good token, and counts as a failure
expect 5 env IOHEME_TOKEN="$tok" IOHEME_USER=nurse IOHEME_PASSWORD=wrong-pass-1 "$I" show IOH-001
[ "$(rows "action = 'login_failed' AND \"user\" = 'nurse'")" = 1 ] || fail "wrong password not audited"
expect 0 env IOHEME_TOKEN="$tok" IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 "$I" user list
# garbage is refused with a message, nothing written
n0=$(rows "1 = 1")
expect 5 env IOHEME_TOKEN=0123abcd "$I" show IOH-001
grep -q "IOHEME_TOKEN is no valid API token" "$W/err" || fail "no message for a bad token: $(cat "$W/err")"
[ "$(rows "1 = 1")" = "$n0" ] || fail "a bad token wrote to the trail"

# ---- the same token on the JSON API
if command -v curl >/dev/null 2>&1; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$I" serve --listen "127.0.0.1:$port" >"$W/serve.log" 2>&1 &
    pid=$!
    i=0
    until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 100 ] || { cat "$W/serve.log"; fail "server did not start"; }
        sleep 0.1
    done
    code=$(curl -s -o "$W/me.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
        "http://127.0.0.1:$port/api/v1/me")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    [ "$code" = 200 ] && grep -q '"nurse"' "$W/me.json" || fail "API with the CLI's token: $code $(cat "$W/me.json")"
fi

# ---- list: ids, never the token; another user's list needs user_manage
expect 0 env IOHEME_TOKEN="$tok" "$I" token list --json
python3 - "$W/out" "$tok" <<'PY'
import hashlib, json, sys
v = json.load(open(sys.argv[1]))
tok = sys.argv[2]
assert v["user"] == "nurse" and len(v["tokens"]) == 2, v
assert hashlib.sha256(tok.encode()).hexdigest()[:16] in [t["id"] for t in v["tokens"]], v
assert tok not in open(sys.argv[1]).read()
PY
id=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[:16])' "$tok")
expect 6 env IOHEME_TOKEN="$tok" "$I" token list --for admin
expect 0 as admin admin-pass-1 "$I" token list --for nurse
grep -q "$id" "$W/out" || fail "the admin's list of nurse's tokens lacks $id"
expect 2 as admin admin-pass-1 "$I" token new --for nurse
expect 2 as admin admin-pass-1 "$I" token revoke

# ---- revoke: the token stops at once
expect 0 env IOHEME_TOKEN="$tok" "$I" token revoke "$id"
expect 5 env IOHEME_TOKEN="$tok" "$I" show IOH-001
expect 4 as nurse nurse-pass-1 "$I" token revoke "$id"
grep -q "$id" "$W/err" || fail "revoking an unknown id: $(cat "$W/err")"

expect 0 as admin admin-pass-1 "$I" audit verify
echo "cli_token: ok"
