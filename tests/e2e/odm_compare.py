#!/usr/bin/env python3
"""Compares the study content of two ioheme databases with Python's sqlite3 (a reader nobody
here wrote), or psql for studies on PostgreSQL (testdb.py): every record (screening number,
study ID, status), every stored value (flag included) and every form status. Exit 0 when
equal; else prints the first differences.
Usage: odm_compare.py A.db B.db (or two postgresql:// URLs)"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import testdb  # noqa: E402


def content(path):
    db = testdb.connect(path)
    recs = sorted(db.execute("select screening_no, coalesce(study_id, ''), status, eligible from record"))
    vals = sorted(db.execute(
        "select r.screening_no, v.event, v.instance, v.field, v.code, v.value, coalesce(v.flag, '') "
        "from value v join record r on r.id = v.record_id"))
    stats = sorted(db.execute(
        "select r.screening_no, s.event, s.form, s.instance, s.status "
        "from form_status s join record r on r.id = s.record_id"))
    return {"records": recs, "values": vals, "form statuses": stats}


a, b = content(sys.argv[1]), content(sys.argv[2])
bad = False
for k in a:
    sa, sb = set(a[k]), set(b[k])
    if sa != sb:
        bad = True
        print(f"FAIL: {k} differ: {len(sa - sb)} only in {sys.argv[1]}, {len(sb - sa)} only in {sys.argv[2]}")
        for x in sorted(sa - sb)[:5]:
            print("  only in A:", x)
        for x in sorted(sb - sa)[:5]:
            print("  only in B:", x)
    elif not sa:
        bad = True
        print(f"FAIL: no {k} at all: the comparison would prove nothing")
if not bad:
    print(f"same content: {len(a['records'])} records, {len(a['values'])} values, "
          f"{len(a['form statuses'])} form statuses")
sys.exit(1 if bad else 0)
