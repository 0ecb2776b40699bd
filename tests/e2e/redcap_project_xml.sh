#!/bin/sh
# `ioheme protocol from-redcap project.xml DIR` (issue 12 §2) on every REDCap project XML of the
# corpus (tests/fixtures/redcap-corpus, unedited): the dictionary it writes equals, field by
# field and column by column, the dictionary.csv REDCap exported for the same project (compared
# by python's csv module, whitespace and REDCap's int/float validation aliases aside); events
# equal redcap_events.csv where the case has one, and repeating instruments the project's
# redcap:RepeatingInstrument elements (tests/e2e/redcap_repeating.py). Then the whole move:
# a database made from that folder alone takes the XML's records (`ioheme import odm`), and
# holds value for value what a database made from the corpus dictionary holds after importing
# the corpus data.csv.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL redcap_project_xml: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1
C="$IOHEME_SRC/tests/fixtures/redcap-corpus"
n=0
for x in "$C"/*/project.xml; do
    d=$(dirname "$x")
    case=$(basename "$d")
    p="$W/$case"
    mkdir -p "$p"
    k=$(echo "$case" | tr -c 'a-zA-Z0-9\n' _)
    xdb=$(test_db "${k}_x")
    cdb=$(test_db "${k}_c")
    "$IOHEME" protocol from-redcap "$x" "$p/proto" >"$p/out" || fail "$case: from-redcap: $(cat "$p/out")"
    "$IOHEME" protocol check "$p/proto" >/dev/null || fail "$case: the folder does not check"
    /usr/bin/python3 - "$d/dictionary.csv" "$p/proto/dictionary.csv" <<'PY' || fail "$case: dictionaries differ"
import csv, re, sys
def load(p):
    rows = list(csv.reader(open(p, newline='', encoding='utf-8-sig')))
    return {r[0]: (r + [''] * 18)[:18] for r in rows[1:] if r and r[0]}
def norm(i, v):
    v = re.sub(r'\s+', ' ', v).strip()
    if i == 5:
        v = ' | '.join(x.strip() for x in v.split('|'))
    if i == 7:
        v = {'int': 'integer', 'float': 'number'}.get(v, v)
    return v.lower() if i in (10, 12) else v
corpus, xml = load(sys.argv[1]), load(sys.argv[2])
assert list(corpus) == list(xml), ('fields or their order', list(corpus), list(xml))
diff = [(k, i, corpus[k][i], xml[k][i]) for k in corpus for i in range(18) if norm(i, corpus[k][i]) != norm(i, xml[k][i])]
assert not diff, diff[:5]
PY
    if [ -f "$d/redcap_events.csv" ]; then
        /usr/bin/python3 - "$d/redcap_events.csv" "$p/proto/events.csv" <<'PY' || fail "$case: events differ"
import csv, sys
a = [(r['event_name'], r['arm_num'], r['unique_event_name']) for r in csv.DictReader(open(sys.argv[1], encoding='utf-8-sig'))]
b = [(r['event_name'], r['arm_num'], r['unique_event_name']) for r in csv.DictReader(open(sys.argv[2], encoding='utf-8-sig'))]
assert a == b, (a, b)
PY
    fi
    if grep -q '<redcap:RepeatingInstrument ' "$x"; then
        /usr/bin/python3 "$IOHEME_SRC/tests/e2e/redcap_repeating.py" "$x" "$p/want_repeating.csv"
        /usr/bin/python3 -c 'import csv, sys; a, b = (list(csv.reader(open(f, newline=""))) for f in sys.argv[1:]); assert a == b, (a, b)' \
            "$p/want_repeating.csv" "$p/proto/repeating.csv" || fail "$case: repeating.csv: $(cat "$p/proto/repeating.csv")"
    fi
    # the records: the XML's into a database of the XML's protocol, the corpus CSV's into one of
    # the corpus dictionary
    "$IOHEME" init --db "$xdb" --admin admin --protocol "$p/proto" >/dev/null || fail "$case: init from the XML's folder"
    "$IOHEME" import "$x" --db "$xdb" --reason "from REDCap" >"$p/out" 2>&1 || fail "$case: import odm: $(cat "$p/out")"
    mkdir -p "$p/corpus"
    cp "$d/dictionary.csv" "$p/corpus/"
    [ ! -f "$d/redcap_events.csv" ] || cp "$d/redcap_events.csv" "$p/corpus/events.csv"
    [ ! -f "$p/want_repeating.csv" ] || cp "$p/want_repeating.csv" "$p/corpus/repeating.csv"
    "$IOHEME" init --db "$cdb" --admin admin --protocol "$p/corpus" >/dev/null || fail "$case: init from the corpus"
    "$IOHEME" import "$d/data.csv" --db "$cdb" --reason "from REDCap" >"$p/out" 2>&1 || fail "$case: import data.csv: $(cat "$p/out")"
    /usr/bin/python3 - "$xdb" "$cdb" "$p/proto/dictionary.csv" "$IOHEME_SRC/tests/e2e" <<'PY' || fail "$case: the XML's records differ from data.csv's"
import csv, sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[4])
import testdb
identifiers = {r[0] for r in csv.reader(open(sys.argv[3], newline='', encoding='utf-8-sig')) if len(r) > 10 and r[10].strip().lower() == 'y'}
def cells(db):
    con = testdb.connect(db)
    name = {rid: (sid or scr) for rid, sid, scr in con.execute('SELECT id, study_id, screening_no FROM record')}
    return {(name[rid], ev, inst, f, code): (None if f in identifiers else v)
            for rid, ev, inst, f, code, v in con.execute('SELECT record_id, event, instance, field, code, value FROM value')}
x, c = cells(sys.argv[1]), cells(sys.argv[2])
assert c, 'nothing imported from data.csv'
assert x == c, ('differ', sorted(set(x.items()) ^ set(c.items()))[:6])
PY
    n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "only $n project XML files in the corpus"
# a repeating event (none of the corpus projects has one): written as REDCap writes it, a
# repeating.csv row with the form blank, which the loader takes (it refused it before)
x="$IOHEME_SRC/tests/fuzz/corpus/redcap_xml/repeating_event.xml"
rm -rf "$W/repev"
"$IOHEME" protocol from-redcap "$x" "$W/repev" >"$W/out" 2>&1 || fail "repeating event: from-redcap: $(cat "$W/out")"
grep -q '^e_arm_1,,' "$W/repev/repeating.csv" || fail "repeating event: repeating.csv $(cat "$W/repev/repeating.csv")"
"$IOHEME" protocol check "$W/repev" >"$W/out" 2>&1 || fail "repeating event: protocol check: $(cat "$W/out")"
echo "redcap_project_xml: ok ($n projects)"
