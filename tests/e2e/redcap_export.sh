#!/bin/sh
# `ioheme export redcap` (issue 12 §2): the study written in REDCap's formats. Checked with
# python's csv and sqlite3 on the database file (psql on PostgreSQL): every stored value (calcs
# included) and form status is in data.csv at its record, event, repeat instrument and
# instance, and nothing else is; the exported protocol files are the database's protocol
# (`protocol diff` finds nothing); data.csv imports back into the same database as 0 changes
# (the round trip); the export is audited with data.csv's SHA-256.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL redcap_export: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme" IOHEME_DB
I=$IOHEME
"$I" init --admin admin --synthetic >/dev/null
"$I" simulate --patients 12 --seed 5 >/dev/null
"$I" export redcap --out "$W/rc" --json >"$W/out.json" || fail "export"
/usr/bin/python3 - "$IOHEME_DB" "$W/rc/data.csv" "$W/rc/dictionary.csv" "$IOHEME_SRC/tests/e2e" <<'PY' || fail "data.csv does not match the database"
import csv, sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[4])
import testdb
db, data, dictionary = sys.argv[1:4]
con = testdb.connect(db)
names = {rid: (sid or scr) for rid, sid, scr in con.execute('SELECT id, study_id, screening_no FROM record')}
rows = list(csv.DictReader(open(data, newline='')))
assert rows, 'no rows'
cols = list(rows[0].keys())
assert cols[:4] == ['record_id', 'redcap_event_name', 'redcap_repeat_instrument', 'redcap_repeat_instance'], cols[:4]
fields = {r['Variable / Field Name'] for r in csv.DictReader(open(dictionary, newline=''))}
assert cols[0] in fields, cols[0]
cells = {}
for r in rows:
    inst = int(r['redcap_repeat_instance'] or 0)
    for c, v in r.items():
        if c in cols[:4] or v == '':
            continue
        key = (r['record_id'], r['redcap_event_name'], inst, c)
        assert key not in cells, ('twice', key)
        cells[key] = v
want = {}
for rid, ev, inst, field, code, value in con.execute('SELECT record_id, event, instance, field, code, value FROM value'):
    want[(names[rid], ev, inst, field + ('___' + code if code else ''))] = value
for rid, ev, form, inst, status in con.execute('SELECT record_id, event, form, instance, status FROM form_status'):
    want[(names[rid], ev, inst, form + '_complete')] = str(status)
for k, v in want.items():
    assert cells.get(k) == v, ('missing or different', k, v, cells.get(k))
extra = {k: v for k, v in cells.items() if k not in want and not ('___' in k[3] and v == '0')}
assert not extra, ('not in the database', list(extra.items())[:3])
print(f'redcap_export: {len(want)} stored values and statuses, all in data.csv')
PY
"$I" protocol diff "$W/rc" | grep -q "^0 change(s), 0 unsafe$" || fail "the exported protocol is not the database's"
"$I" import "$W/rc/data.csv" --reason "round trip" >"$W/out" || fail "import back: $(cat "$W/out")"
grep -q " 0 values changed, 0 calculated, 0 statuses," "$W/out" || fail "the round trip changed something: $(cat "$W/out")"
sha=$(sha256sum "$W/rc/data.csv" | cut -d' ' -f1)
"$I" audit export | grep -q ",export,.*export redcap,.*data.csv sha256 $sha" || fail "the export is not audited with its SHA-256"
echo "redcap_export: ok"
