#!/usr/bin/env python3
"""Checks an ODM 1.3.2 file written by `ioheme export odm` against the database it came from,
with Python's own XML parser and sqlite3 (readers nobody here wrote), or psql for a study on
PostgreSQL (testdb.py).

  odm_check.py FILE.xml DB [--audit]      DB: a SQLite file or a postgresql:// URL

Every subject's final state (for each StudyEventOID, repeat key and ItemOID, the last ItemData
in document order; a Remove clears it) must equal the database's stored values and form
statuses, date-times written with ISO 8601's 'T'. With --audit, the file must be Transactional
and every ItemData must carry an AuditRecord whose ID names an audit row of the database with
the same user, UTC time, new value and reason."""
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import testdb  # noqa: E402

NS = "{http://www.cdisc.org/ns/odm/v1.3}"
path, dbpath = sys.argv[1], sys.argv[2]
audit = "--audit" in sys.argv
db = testdb.connect(dbpath)
root = ET.parse(path).getroot()
fail = []
ft = root.get("FileType")
if ft != ("Transactional" if audit else "Snapshot"):
    fail.append(f"FileType {ft}")

names = {}  # screening_no -> public name
for scr, sid in db.execute("select screening_no, coalesce(study_id, '') from record"):
    names[scr] = sid or scr
dtfields = set()
for (dic,) in db.execute("select content from protocol_file where name = 'dictionary.csv'"):
    import csv, io
    rows = list(csv.reader(io.StringIO(dic)))
    for r in rows[1:]:
        if r[3] == "text" and r[7].startswith("datetime"):
            dtfields.add(r[0])

want = {}
for scr, ev, inst, field, code, value in db.execute(
        "select r.screening_no, v.event, v.instance, v.field, v.code, v.value "
        "from value v join record r on r.id = v.record_id"):
    key = field + ("___" + code if code else "")
    if field in dtfields and len(value) > 10 and value[10] == " ":
        value = value[:10] + "T" + value[11:]
    want[(names[scr], ev, inst, key)] = value
for scr, ev, form, inst, st in db.execute(
        "select r.screening_no, s.event, s.form, s.instance, s.status "
        "from form_status s join record r on r.id = s.record_id"):
    want[(names[scr], ev, inst, form + "_complete")] = str(st)

rows = {}
for (i, u, ts, val, reason) in db.execute(
        "select id, \"user\", ts, coalesce(new_value, ''), reason from audit "
        "where action in ('update', 'calc', 'form_status')"):
    rows[i] = (u, ts, val, reason)

got = {}
nitems = 0
for subj in root.iter(NS + "SubjectData"):
    sk = subj.get("SubjectKey")
    for se in subj.findall(NS + "StudyEventData"):
        ev = se.get("StudyEventOID")[3:]
        for fd in se.findall(NS + "FormData"):
            for ig in fd.findall(NS + "ItemGroupData"):
                inst = int(ig.get("ItemGroupRepeatKey") or 0)
                for it in ig.findall(NS + "ItemData"):
                    nitems += 1
                    key = it.get("ItemOID")[2:]
                    tt = it.get("TransactionType")
                    v = "" if tt == "Remove" else it.get("Value")
                    got[(sk, ev, inst, key)] = v
                    ar = it.find(NS + "AuditRecord")
                    if audit:
                        if ar is None:
                            fail.append(f"{sk} {ev} {key}: no AuditRecord")
                            continue
                        n = int(ar.get("ID")[3:])
                        if n not in rows:
                            fail.append(f"{sk} {ev} {key}: AuditRecord {n} is not a value row")
                            continue
                        u, ts, val, reason = rows[n]
                        user = ar.find(NS + "UserRef").get("UserOID")[2:]
                        when = ar.find(NS + "DateTimeStamp").text
                        rfc = ar.find(NS + "ReasonForChange")
                        if key.split("___")[0] in dtfields and len(val) > 10:
                            val = val[:10] + "T" + val[11:]
                        if (user, when, v) != (u, ts, val) or (rfc.text if rfc is not None else None) != (reason or None):
                            fail.append(f"{sk} {ev} {key}: AuditRecord {n} differs from the trail")
                    elif ar is not None:
                        fail.append(f"{sk} {ev} {key}: an AuditRecord in a file without audit")
final = {k: v for k, v in got.items() if v != ""}
if final != want:
    only_db = sorted(set(want.items()) - set(final.items()))[:5]
    only_file = sorted(set(final.items()) - set(want.items()))[:5]
    fail.append(f"values differ: database only {only_db}, file only {only_file}")
if not want:
    fail.append("the database holds no values: the check would prove nothing")
if fail:
    print("FAIL:", *fail[:10], sep="\n  ")
    sys.exit(1)
print(f"{path}: {len(final)} values in {nitems} ItemData equal the database{' with their audit rows' if audit else ''}")
