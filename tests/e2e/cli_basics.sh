#!/bin/sh
# The command table: help, version, unknown commands, --help on every command.
set -eu
: "${IOHEME:?}"
out=$("$IOHEME" help)
echo "$out" | grep -q "stats" || { echo "help does not list stats"; exit 1; }
"$IOHEME" version | grep -q '^ioheme ' || { echo "version"; exit 1; }
if "$IOHEME" no-such-command 2>/dev/null; then echo "unknown command succeeded"; exit 1; fi
# Exit statuses: help prints them from the error table; docs/operations.md must list each one.
codes=$("$IOHEME" help | sed -n '/^Errors go to/,$p' | tr ',' '\n' | sed -n 's/.* \([0-9][0-9]*\) [a-z_]*\.*$/\1/p')
[ "$(echo "$codes" | wc -l)" -ge 13 ] || { echo "help lists too few exit statuses: $codes"; exit 1; }
for c in $codes; do
    grep -q "^| $c |" "${IOHEME_SRC:?}/docs/operations.md" ||
        { echo "exit status $c is not documented in docs/operations.md"; exit 1; }
done
# Every command listed by help answers --help with exit 0 and a usage line.
for cmd in $("$IOHEME" help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
    "$IOHEME" "$cmd" --help | grep -qi 'usage' || { echo "$cmd --help has no usage"; exit 1; }
done
# ... and every subcommand and stats method, without a database or a password (stdin closed).
for sub in "user add" "user list" "user disable" "user unlock" "user passwd" "user sites" \
    "site list" "site add" "site move" "audit verify" \
    "audit export" "protocol check" "protocol show" "protocol eval" "protocol js" \
    "stats km" "stats logrank" "stats cox" "stats binom" "stats wilson" "stats poisson" \
    "stats wilcoxon" "stats ttest" "stats fisher" "stats chisq" "stats quantile" \
    "stats samplesize"; do
    # shellcheck disable=SC2086
    (cd / && env -u IOHEME_DB -u IOHEME_USER -u IOHEME_PASSWORD "$IOHEME" $sub --help \
        </dev/null 2>&1) | grep -qi 'usage' || { echo "$sub --help has no usage"; exit 1; }
done
# output that cannot be written (a full disk) fails the command, it is not lost silently
if [ -w /dev/full ]; then
    if err=$("$IOHEME" help 2>&1 >/dev/full); then echo "help > /dev/full exited 0"; exit 1; fi
    echo "$err" | grep -q "writing the output failed" || { echo "no message for a failed write: $err"; exit 1; }
fi
# a postgres:// database that cannot be reached, where a study is opened or created: said
# plainly, with the URL's password hidden, and no file named after the URL is made
for cmd in "screen --list" "init --admin admin"; do
    set +e
    # shellcheck disable=SC2086
    err=$(cd "${TMPDIR:-/tmp}" && IOHEME_PASSWORD=Adm1n-passw IOHEME_USER=admin "$IOHEME" $cmd --db postgres://u:s3cretpw@h.invalid/db 2>&1)
    rc=$?
    set -e
    [ "$rc" = 8 ] && echo "$err" | grep -q "postgres://u:\*\*\*@h.invalid/db: cannot connect to PostgreSQL" ||
        { echo "$cmd --db postgres://: exit $rc: $err"; exit 1; }
    if echo "$err" | grep -q s3cretpw; then echo "the password was shown: $err"; exit 1; fi
    [ ! -e "${TMPDIR:-/tmp}/postgres:" ] || { echo "a file named after the URL"; exit 1; }
done
echo ok
