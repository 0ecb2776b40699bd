#!/bin/sh
# A COMMIT whose outcome is not known (issue 15): on a cluster of its own (the test makes every
# commit wait for a synchronous standby that does not exist, which would stall the shared one),
# a save's COMMIT is held waiting for the standby and its PostgreSQL session is terminated: the
# commit is then kept by PostgreSQL but never acknowledged. The API must answer 503 with the code
# outcome_unknown and a message that says so (not "nothing was saved"), the command line must
# exit 16 saying so, the value must indeed be there afterwards, and the server must go on
# saving without a restart (see pg_commit_lost.mjs).
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
chmod 755 "$W" # the cluster runs as the postgres user when this runs as root
trap 'sh "$IOHEME_SRC/tests/pg/cluster.sh" stop "$W/pg" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
sh "$IOHEME_SRC/tests/pg/cluster.sh" start "$W/pg" >/dev/null
IOHEME_TEST_PG="$W/pg" node "$IOHEME_SRC/tests/crash/pg_commit_lost.mjs"
