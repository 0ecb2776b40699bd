#!/bin/sh
# The export cache (src/report/dataset_cache.h): after every kind of change a study can go through —
# a value, a new patient, a withdrawal, a site, a query, the site time zone, a key rotation, a
# backup put back — `ioheme dataset` (with a package's files) and `ioheme export xpt` write the
# same bytes as with the cache turned off (IOHEME_EXPORT_CACHE=off: every record derived
# afresh), and derive again only the records the change touched. A damaged cache file is no
# cache; the files are the study's owner's alone; a reader who sees no identifiers has a cache
# of their own.
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL export_cache: $*" >&2; exit 1; }  # stderr: also from inside $(derived)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme"
I=$IOHEME
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB="$W/s.db"
export IOHEME_DB
"$I" init --admin admin --synthetic >/dev/null
"$I" simulate --patients 24 --seed 5 >/dev/null
use_token "$IOHEME_DB"
C="$IOHEME_DB.cache"

# the cache files and their inodes (a file written anew is renamed over the old one)
inodes() {
    for f in "$C"/*.bin; do
        [ ! -e "$f" ] || stat -c '%n %i' "$f"
    done
}
# derived() CMD OUTDIR: runs the export, cached, and prints how many records it derived afresh
# ("all" when the cache gave none); then the same export with the cache off must give the same
# files. An export that derived none leaves its cache file as it was; any other writes it anew.
derived() {
    what=$1
    shift
    rm -rf "$W/cached" "$W/fresh"
    inodes >"$W/inodes.before"
    "$I" "$@" --out "$W/cached" >"$W/out" || fail "$what: $*"
    inodes >"$W/inodes.after"
    nfiles=$(diff "$W/inodes.before" "$W/inodes.after" | grep -c '^>' || true)
    IOHEME_EXPORT_CACHE=off "$I" "$@" --out "$W/fresh" >"$W/out2" || fail "$what: $* (no cache)"
    grep -q "export cache" "$W/out2" && fail "$what: the cache was used with IOHEME_EXPORT_CACHE=off"
    diff -r "$W/cached" "$W/fresh" >"$W/diff" ||
        fail "$what: '$*' with the cache differs from without: $(head -c 600 "$W/diff")"
    # what the command says (each table's rows, values left out) is the same too
    grep -v "export cache" "$W/out" | sed "s|$W/cached|DIR|" >"$W/said"
    sed "s|$W/fresh|DIR|" "$W/out2" | diff "$W/said" - >/dev/null ||
        fail "$what: '$*' says otherwise with the cache: $(cat "$W/out") / $(cat "$W/out2")"
    n=$(sed -n 's/.*taken from the export cache, \([0-9]*\) derived$/\1/p' "$W/out")
    if [ "${n:-all}" = 0 ]; then
        [ "$nfiles" = 0 ] || fail "$what: '$*' derived nothing but wrote its cache file again"
    else
        [ "$nfiles" = 1 ] || fail "$what: '$*' derived ${n:-all} and wrote $nfiles cache files"
    fi
    echo "${n:-all}"
}
# check WHAT N: after change WHAT, both exports derive N records afresh (all: every one)
check() {
    for exp in "dataset --format stata" "export xpt"; do
        # shellcheck disable=SC2086
        got=$(derived "$1" $exp)
        [ "$got" = "$2" ] || fail "$1: '$exp' derived $got record(s) afresh, wanted $2"
    done
}

check "first export" all
[ "$(stat -c %a "$C")" = 700 ] || fail "cache folder mode $(stat -c %a "$C")"
for f in "$C"/*.bin; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"
done
for f in dataset-spooled-id.bin sdtm-id.bin; do
    [ -f "$C/$f" ] || fail "no cache file $f: $(ls "$C")"
done
check "nothing" 0
# the CSVs alone are a kind of their own
[ "$(derived "csv" dataset)" = all ] || fail "the first CSV export found a cache"
[ "$(derived "csv again" dataset)" = 0 ] || fail "the second CSV export derived records"

# one value of one record
"$I" set IOH-002 screening age=50 --reason "source: chart" >/dev/null
check "a value" 1
"$I" dataset --out "$W/d" >/dev/null
grep -q '^IOH-002,SCR-[0-9]*,[0-9-]*,[01],50,' "$W/d/subjects.csv" ||
    fail "the changed age is not in subjects.csv: $(grep '^IOH-002,' "$W/d/subjects.csv")"
# four records of about 34: more than a sixteenth, so their values are read in one scan of
# the value table that skips the others (one record: read by key, above)
"$I" set IOH-003 t0 hd_hr=131 --reason "source: monitor" >/dev/null
"$I" set IOH-004 t0 hd_hr=77 --reason "source: monitor" >/dev/null
"$I" set IOH-010 screening age=61 --reason "source: chart" >/dev/null
"$I" set IOH-011 screening age=62 --reason "source: chart" >/dev/null
check "values of four records" 4

# a new patient screened and enrolled (a record the cache has never seen)
NOCI="ci_fracture=0 ci_prosthesis=0 ci_recent_io=0 ci_skin=0 ci_landmarks=0 ci_osteoporosis=0 ci_oi=0"
# shellcheck disable=SC2086
scr=$("$I" screen scr_date=2026-03-03 scr_by=3 age=45 sex=2 heme_disease=1 heme_dx=1 \
    qual_cat1___1=1 qual_cat2___1=1 qual_cat3___0=1 qual_cat4___0=1 qual_cat5___0=1 \
    scr_site_plan=2 $NOCI scr_consent=1 --json | sed -n 's/.*"screening_no": "\([^"]*\)".*/\1/p')
[ -n "$scr" ] || fail "no screening number"
check "a patient screened" 1
"$I" enroll "$scr" cons_type=1 "cons_dt=2026-03-03 09:40" cons_obtained_by=3 cons_withdrawn=0 >/dev/null
check "a patient enrolled" 1

# a withdrawal; a query (which changes no output, but names the record)
"$I" withdraw IOH-005 --reason "patient's wish" >/dev/null
check "a withdrawal" 1
"$I" query open IOH-006 t0 --field hd_hr --message "please check" >/dev/null
check "a query" 1

# study-level changes: every record derived again
"$I" site add NORTH --name "North hospital" >/dev/null
check "a site added" all
"$I" site move IOH-007 NORTH --reason "transferred" >/dev/null
check "a record moved to a site" 1
"$I" timezone Europe/Paris --reason "the ward's zone" >/dev/null
check "the site time zone" all
"$I" key rotate --reason "yearly" >/dev/null
check "a key rotation" all

# a reader who sees no identifiers: a cache of their own, the same bytes as without
printf 'stat-pass-1\nstat-pass-1\n' | "$I" user add stat --role statistician >/dev/null
use_token "$IOHEME_DB" stat stat-pass-1
check "another reader" all
check "another reader, again" 0
[ -f "$C/sdtm-noid.bin" ] || fail "no cache of the reader without identifiers: $(ls "$C")"
use_token "$IOHEME_DB" admin admin-pass-1

# a backup put back: the trail the cache was written at is not the database's any more
# a user added and given a role changes nothing an export derives (for readers of any class)
check "a user added, for the first reader" 0
printf 'dm-pass-1\ndm-pass-1\n' | "$I" user add dm --role data_manager >/dev/null
"$I" user role dm monitor --reason "moved to monitoring" >/dev/null
check "a user added and their role changed" 0
check "before the backup" 0
IOHEME_PASSWORD=admin-pass-1 "$I" backup "$W/b.db" >/dev/null
"$I" set IOH-008 t0 hd_hr=66 --reason "source: monitor" >/dev/null
"$I" set IOH-009 t0 hd_hr=67 --reason "source: monitor" >/dev/null
check "two values after the backup" 2
IOHEME_PASSWORD=admin-pass-1 "$I" restore "$W/b.db" --db "$IOHEME_DB" --force >/dev/null
use_token "$IOHEME_DB" admin admin-pass-1
check "the backup put back" all

# a damaged cache file is no cache: the export derives everything and writes a good one
check "before the damage" 0
for f in "$C"/*.bin; do
    head -c 5000 "$f" >"$W/cut" && cat "$W/cut" >"$f"
done
check "a damaged cache" all
check "after the damage" 0
# what an export killed half-way left (its working file, its process gone) is removed
dead=$(sh -c 'echo $$')
: >"$C/.sdtm-id.$dead.AbC123"
check "after a killed export" 0
[ ! -e "$C/.sdtm-id.$dead.AbC123" ] || fail "a killed export's working file was left: $(ls -a "$C")"
for f in "$C"/.[a-z]*; do
    [ ! -e "$f" ] || fail "working file left: $f"
done
echo ok
