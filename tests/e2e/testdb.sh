# Sourced by the shell end-to-end tests (after they make their work directory $W): where a
# test's studies live, so that one test runs on both backends. A test that uses it carries the
# line "# backends: sqlite postgresql" and ctest runs it twice (CMakeLists.txt: e2e_NAME on
# SQLite, pg_e2e_NAME with IOHEME_TEST_PG, a cluster directory made by tests/pg/cluster.sh start).
#   test_db NAME       prints where study NAME lives: $W/NAME.db, or on PostgreSQL the URL of a
#                      fresh, empty database of the cluster (named after $W and NAME)
#   on_pg              true when the tests run on PostgreSQL (for a test's SQLite-only parts:
#                      the file, its WAL, backup and restore, SQLite's own limits)
#   use_token DB [USER PASSWORD]
#                      the test's later commands on DB sign in as USER (default $IOHEME_USER,
#                      password $IOHEME_PASSWORD) with an API token: exports IOHEME_USER and
#                      IOHEME_TOKEN from `ioheme token new`, unsets IOHEME_PASSWORD. One
#                      password check instead of an argon2id check per command; a command as
#                      another user gives that user's IOHEME_USER and IOHEME_PASSWORD itself.
#   as_token DB USER PASSWORD CMD...
#                      runs CMD as USER with an API token for DB, made on USER's first command
#                      with PASSWORD and kept in $W for the next ones (a test's `as` helper)
#   expect_exit CODE CMD...
#                      runs CMD with no input and requires exit status CODE; its output is in
#                      $W/out and $W/err, shown with the command when the status differs
#   run_as USER PASSWORD CMD...   runs CMD signed in as USER with PASSWORD
#   audit_rows WHERE   the number of rows of $IOHEME_DB's audit trail matching the SQL WHERE
#   REDCAP_HEADER      the header line of a REDCap data dictionary, for a test that writes one
#   test_sql DB SQL    runs one statement on a study behind the CLI's back and prints the rows
#                      as sqlite3 does (one a line, | between columns); write SQL both accept
#                      ("user" quoted)
# On PostgreSQL, IOHEME_KEY_FILE names $W/study.key for every ioheme the test starts: a study on
# PostgreSQL has no file to keep its identifier key beside (docs/operations.md).
: "${W:?testdb.sh: set W (the work directory of the test) before sourcing it}"

REDCAP_HEADER='"Variable / Field Name","Form Name","Section Header","Field Type","Field Label","Choices, Calculations, OR Slider Labels","Field Note","Text Validation Type OR Show Slider Number","Text Validation Min","Text Validation Max",Identifier?,"Branching Logic (Show field only if...)","Required Field?","Custom Alignment","Question Number (surveys only)","Matrix Group Name","Matrix Ranking?","Field Annotation"'

on_pg() { [ -n "${IOHEME_TEST_PG:-}" ]; }

if on_pg; then
    export IOHEME_KEY_FILE="$W/study.key"
    TESTDB_PSQL="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/psql"
fi

test_db() {
    if ! on_pg; then
        echo "$W/$1.db"
        return
    fi
    sh "$IOHEME_SRC/tests/pg/cluster.sh" createdb "$IOHEME_TEST_PG" \
        "t_$(basename "$W" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')_$1" 2>/dev/null
}

use_token() {
    IOHEME_TOKEN=$(env -u IOHEME_TOKEN IOHEME_USER="${2:-${IOHEME_USER:-}}" \
        IOHEME_PASSWORD="${3:-${IOHEME_PASSWORD:-}}" "${IOHEME:-ioheme}" token new --db "$1") ||
        return 1
    IOHEME_USER=${2:-${IOHEME_USER:-}}
    export IOHEME_USER IOHEME_TOKEN
    unset IOHEME_PASSWORD
}

as_token() {
    _k=$(printf '%s' "$1" | cksum)
    _f="$W/.token-${_k%% *}-$2"
    [ -s "$_f" ] || env -u IOHEME_TOKEN IOHEME_USER="$2" IOHEME_PASSWORD="$3" \
        "${IOHEME:-ioheme}" token new --db "$1" >"$_f" || { rm -f "$_f"; return 5; }
    _db=$1 _u=$2
    shift 3
    env -u IOHEME_PASSWORD IOHEME_DB="$_db" IOHEME_USER="$_u" IOHEME_TOKEN="$(cat "$_f")" "$@"
}

expect_exit() {
    _want=$1
    shift
    set +e
    "$@" >"$W/out" 2>"$W/err" </dev/null
    _got=$?
    set -e
    [ "$_got" -eq "$_want" ] && return 0
    cat "$W/out" "$W/err" >&2
    echo "FAIL: exit $_got, wanted $_want: $*" >&2
    exit 1
}

run_as() {
    _u=$1 _p=$2
    shift 2
    env IOHEME_USER="$_u" IOHEME_PASSWORD="$_p" "$@"
}

audit_rows() { test_sql "$IOHEME_DB" "SELECT count(*) FROM audit WHERE $1"; }

test_sql() {
    case $1 in
    *://*) "$TESTDB_PSQL" -X -q -At -v ON_ERROR_STOP=1 "$1" -c "$2" ;;
    *) sqlite3 "$1" "$2" ;;
    esac
}
