#!/bin/sh
# `ioheme export odm` and `ioheme import odm` (docs/exports.md), judged by readers nobody here
# wrote: xmllint against the CDISC ODM 1.3.2 XSD, Python's XML parser and sqlite3 or psql
# (odm_check.py: every value and audit record of the file equals the database),
# sha256sum for the audited hash.
#   - a demo study with signatures, queries and a correction with a reason: valid, values and
#     audit records equal the database's, byte-identical across two runs, audited with the
#     file's SHA-256; --no-audit, --metadata-only, --record(s), --deidentified;
#   - a 1,000-patient simulated study validates;
#   - round trip: export -> import into a fresh database of the same protocol -> same records,
#     values and form statuses; a file with a bad value imports nothing; --dry-run saves
#     nothing; a file changed between its two readings (while the password is typed) imports
#     nothing.
# backends: sqlite postgresql
set -eu
IOHEME=${IOHEME:-ioheme}
SRC=${IOHEME_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
# the schema is kept with the tests (tests/fixtures/schemas/README.md), checked unedited
XSD=${ODM_XSD:-$SRC/tests/fixtures/schemas/cdisc-odm-1.3.2/ODM1-3-2.xsd}
(cd "$SRC/tests/fixtures/schemas" && sha256sum --quiet -c SHA256SUMS) ||
    { echo "FAIL: tests/fixtures/schemas was edited (SHA256SUMS)"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
W=$tmp
. "$SRC/tests/e2e/testdb.sh"
export IOHEME_USER=admin IOHEME_PASSWORD=e2e-password-1
fail() { echo "FAIL: $*"; exit 1; }
# --stream: the same XSD validation (content models, facets, identity constraints: a wrong
# element, a bad enumeration and a duplicate OID are all found) while reading, without building
# the tree first: the 1,000-patient file (140 MB) in 8 MB of memory and a seventh of the time,
# instead of 1.4 GB
valid() { xmllint --stream --noout --nonet --schema "$XSD" "$1" 2>"$tmp/xsd.err" || { cat "$tmp/xsd.err"; fail "$1 does not validate"; }; }

# ---- the demo study: simulated data, two more users, a signature, queries, a correction
db=$(test_db demo)
"$IOHEME" init --db "$db" --admin admin --synthetic >/dev/null
"$IOHEME" simulate --db "$db" --patients 12 --seed 21 >/dev/null
echo "pi-password-1" | "$IOHEME" user add pi --role investigator --full-name "Zhang Min" --db "$db" >/dev/null
echo "dm-password-1" | "$IOHEME" user add dm --role data_manager --full-name "Li Wei" --db "$db" >/dev/null
IOHEME_USER=pi IOHEME_PASSWORD=pi-password-1 "$IOHEME" sign IOH-001 --meaning casebook_review --db "$db" >/dev/null
IOHEME_USER=dm IOHEME_PASSWORD=dm-password-1 "$IOHEME" query open IOH-002 screening --field age \
    --message "Age differs from the source" --db "$db" >/dev/null
IOHEME_USER=dm IOHEME_PASSWORD=dm-password-1 "$IOHEME" query open IOH-003 --message "Record question" \
    --db "$db" >/dev/null
"$IOHEME" set IOH-002 screening age=53 --reason "Transcription error: source says 53" --db "$db" >/dev/null

"$IOHEME" export odm --db "$db" --out "$tmp/a.xml" >/dev/null
valid "$tmp/a.xml"
python3 "$HERE/odm_check.py" "$tmp/a.xml" "$db" --audit
# the correction is an Update with its reason, after the Insert of the first value
python3 - "$tmp/a.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
NS = "{http://www.cdisc.org/ns/odm/v1.3}"
root = ET.parse(sys.argv[1]).getroot()
subj = {s.get("SubjectKey"): s for s in root.iter(NS + "SubjectData")}
ages = [(i.get("Value"), i.get("TransactionType"), i.find(NS + "AuditRecord/" + NS + "ReasonForChange"))
        for i in subj["IOH-002"].iter(NS + "ItemData") if i.get("ItemOID") == "I.age"]
assert len(ages) == 2 and ages[0][1] == "Insert" and ages[1][:2] == ("53", "Update"), ages
assert ages[1][2].text == "Transcription error: source says 53", ages
sig = subj["IOH-001"].find(NS + "Signature")
assert sig is not None and sig.find(NS + "SignatureRef").get("SignatureOID") == "SD.casebook_review"
assert sig.find(NS + "UserRef").get("UserOID") == "U.pi"
defs = {d.get("OID") for d in root.iter(NS + "SignatureDef")}
assert "SD.casebook_review" in defs, defs
users = {u.get("OID"): u.findtext(NS + "FullName") for u in root.iter(NS + "User")}
assert users["U.pi"] == "Zhang Min", users
notes = [a.findtext(NS + "Comment") for a in subj["IOH-002"].iter(NS + "Annotation")]
assert any("Age differs from the source" in n for n in notes), notes
assert any("Record question" in (a.findtext(NS + "Comment") or "")
           for a in subj["IOH-003"].findall(NS + "Annotation")), "record query not on SubjectData"
mdv = root.find(f"{NS}Study/{NS}MetaDataVersion")
assert mdv.find(f"{NS}ItemGroupDef[@OID='IG.io_attempt']").get("Repeating") == "Yes"
assert mdv.find(f"{NS}ItemGroupDef[@OID='IG.screening']").get("Repeating") == "No"
age = mdv.find(f"{NS}ItemDef[@OID='I.age']")
assert age.get("DataType") == "integer", age.attrib
assert [(r.get("Comparator"), r.findtext(NS + "CheckValue")) for r in age.findall(NS + "RangeCheck")] \
    == [("GE", "14"), ("LE", "100")]
assert mdv.find(f"{NS}CodeList[@OID='CL.sex']") is not None
assert len(mdv.findall(NS + "ConditionDef")) > 10 and len(mdv.findall(NS + "MethodDef")) > 10
print("demo: correction, signature, users, queries and metadata as expected")
PY

# byte-identical: the second export (after the first one's login and export rows) is the same
"$IOHEME" export odm --db "$db" --out "$tmp/b.xml" >/dev/null
cmp "$tmp/a.xml" "$tmp/b.xml" || fail "two exports of the same database differ"
# audited with the file's SHA-256 as sha256sum computes it
sha=$(sha256sum "$tmp/b.xml" | cut -d' ' -f1)
"$IOHEME" audit export --db "$db" --out "$tmp/audit.csv" >/dev/null
grep -q "export odm.*b.xml: ODM 1.3.2.*sha256 $sha" "$tmp/audit.csv" || fail "export not audited with sha256 $sha"
grep -q "/b.xml\|$tmp" "$tmp/audit.csv" && fail "the audit row names the directory" || true

# without audit: a Snapshot of the current values, no AuditRecord
"$IOHEME" export odm --db "$db" --out "$tmp/snap.xml" --no-audit >/dev/null
valid "$tmp/snap.xml"
python3 "$HERE/odm_check.py" "$tmp/snap.xml" "$db"
# metadata only: no ClinicalData
"$IOHEME" export odm --db "$db" --out "$tmp/meta.xml" --metadata-only >/dev/null
valid "$tmp/meta.xml"
grep -q "<ClinicalData" "$tmp/meta.xml" && fail "--metadata-only wrote ClinicalData"
grep -q 'Granularity="Metadata"' "$tmp/meta.xml" || fail "--metadata-only: no Granularity Metadata"
# the study is described by the protocol's title (study.csv), as written there
title=$(sed -n 's/^title,//p' "$SRC/protocols/io-heme/study.csv")
grep -q "<StudyDescription>$title</StudyDescription>" "$tmp/a.xml" || fail "StudyDescription is not study.csv's title '$title'"
# a subset: exactly the records asked for
"$IOHEME" export odm --db "$db" --out "$tmp/sub.xml" --record IOH-002 --records IOH-004,SCR-001 >/dev/null
valid "$tmp/sub.xml"
keys=$(grep -o 'SubjectKey="[^"]*"' "$tmp/sub.xml" | sort | tr '\n' ' ')
[ "$keys" = 'SubjectKey="IOH-002" SubjectKey="IOH-004" SubjectKey="SCR-001" ' ] || fail "subset gave $keys"
# and its audit row says which subjects left
"$IOHEME" audit export --db "$db" --out "$tmp/audit2.csv" >/dev/null
grep "export odm" "$tmp/audit2.csv" | tail -1 | grep -q "sub.xml: ODM 1.3.2.*; records IOH-002, IOH-004, SCR-001" ||
    fail "the subset's audit row does not name its records: $(grep 'export odm' "$tmp/audit2.csv" | tail -1)"
# an unknown record: refused, no file
if "$IOHEME" export odm --db "$db" --out "$tmp/none.xml" --record IOH-999 2>"$tmp/err"; then
    fail "an unknown record was accepted"
fi
grep -q "IOH-999" "$tmp/err" || fail "the error does not name the record: $(cat "$tmp/err")"
[ ! -e "$tmp/none.xml" ] || fail "a refused export left a file"
# the role decides: the investigator has no export permission
if IOHEME_USER=pi IOHEME_PASSWORD=pi-password-1 "$IOHEME" export odm --db "$db" --out "$tmp/pi.xml" 2>/dev/null; then
    fail "an investigator exported"
fi

# ---- de-identified: a protocol whose free-text fields are identifiers (Identifier? = y)
mkdir "$tmp/proto"
cp "$SRC"/protocols/io-heme/*.csv "$tmp/proto/"
python3 - "$tmp/proto/dictionary.csv" <<'PY'
import csv, sys
p = sys.argv[1]
rows = list(csv.reader(open(p, newline="")))
for r in rows[1:]:
    if r[0] in ("iop_notes", "cons_version"):
        r[10] = "y"
csv.writer(open(p, "w", newline=""), lineterminator="\n").writerows(rows)
PY
iddb=$(test_db id)
"$IOHEME" init --db "$iddb" --admin admin --protocol "$tmp/proto" --synthetic >/dev/null
"$IOHEME" simulate --db "$iddb" --patients 4 --seed 3 >/dev/null
"$IOHEME" set IOH-001 io_procedure:1 iop_notes="Patient Jane Marker-Doe, bed 7" --reason "note" --db "$iddb" >/dev/null
"$IOHEME" set IOH-002 screening cons_version="VERSION-MARKER-42" --reason "note" --db "$iddb" >/dev/null
"$IOHEME" export odm --db "$iddb" --out "$tmp/id-full.xml" >/dev/null
grep -q "Marker-Doe" "$tmp/id-full.xml" || fail "the identifier is not in the full export: the test proves nothing"
grep -q "VERSION-MARKER-42" "$tmp/id-full.xml" || fail "the identifier is not in the full export"
"$IOHEME" export odm --db "$iddb" --out "$tmp/id.xml" --deidentified >/dev/null
valid "$tmp/id.xml"
for v in "Marker-Doe" "VERSION-MARKER-42" '<ItemData ItemOID="I.iop_notes"' '<ItemData ItemOID="I.cons_version"' "<FullName>"; do
    grep -q -- "$v" "$tmp/id.xml" && fail "--deidentified kept $v"
done
# every identifier value the database holds is absent (sqlite3 or psql lists them)
python3 - "$iddb" "$tmp/id.xml" "$HERE" <<'PY'
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.argv[3])
import testdb
vals = [v for (v,) in testdb.connect(sys.argv[1]).execute(
    "select value from value where field in ('iop_notes', 'cons_version') and length(value) > 3")]
text = open(sys.argv[2]).read()
assert vals, "no identifier values stored"
leaked = [v for v in vals if f'Value="{v}"' in text]
assert not leaked, leaked
print(f"de-identified: none of {len(vals)} identifier values in the file")
PY

# ---- round trip: export -> import into a fresh database of the same protocol
rt=$(test_db rt)
"$IOHEME" init --db "$rt" --admin admin --synthetic >/dev/null
echo "dm-password-1" | "$IOHEME" user add dm --role data_manager --db "$rt" >/dev/null
# a dry run checks everything and saves nothing
"$IOHEME" import odm "$tmp/a.xml" --dry-run --db "$rt" | grep -q "dry run" || fail "no dry run"
n=$(test_sql "$rt" "select count(*) from record")
[ "$n" -eq 0 ] || fail "--dry-run created $n records"
# a data manager may not screen or enrol: the import creates nothing
if IOHEME_USER=dm IOHEME_PASSWORD=dm-password-1 "$IOHEME" import odm "$tmp/a.xml" --db "$rt" >/dev/null 2>&1; then
    fail "a data manager created subjects"
fi
"$IOHEME" import odm "$tmp/a.xml" --reason "ODM round trip" --db "$rt" >/dev/null
python3 "$HERE/odm_compare.py" "$db" "$rt"
# the Snapshot file round-trips too
rt2=$(test_db rt2)
"$IOHEME" init --db "$rt2" --admin admin --synthetic >/dev/null
"$IOHEME" import odm "$tmp/snap.xml" --db "$rt2" >/dev/null
python3 "$HERE/odm_compare.py" "$db" "$rt2"
# a bad value anywhere: nothing is imported, and the rejection names it
sed 's/ItemOID="I.age" Value="53"/ItemOID="I.age" Value="fifty"/' "$tmp/snap.xml" >"$tmp/bad.xml"
cmp -s "$tmp/snap.xml" "$tmp/bad.xml" && fail "the bad file is not bad"
rt3=$(test_db rt3)
"$IOHEME" init --db "$rt3" --admin admin --synthetic >/dev/null
if "$IOHEME" import odm "$tmp/bad.xml" --db "$rt3" 2>"$tmp/err"; then fail "a bad value was imported"; fi
grep -q "IOH-002.*age" "$tmp/err" || fail "the rejection does not name subject and field: $(cat "$tmp/err")"
n=$(test_sql "$rt3" "select count(*) from record")
[ "$n" -eq 0 ] || fail "a refused import left $n records"
# not XML: a clear error
echo "not xml" >"$tmp/junk.xml"
if "$IOHEME" import odm "$tmp/junk.xml" --db "$rt3" 2>"$tmp/err"; then fail "junk imported"; fi
grep -q "junk.xml" "$tmp/err" || fail "the error does not name the file"
# the file changed between its first reading (before the sign-in) and the import: nothing is
# imported. The password is typed on a terminal (a pty) once the file has been changed.
rt4=$(test_db rt4)
"$IOHEME" init --db "$rt4" --admin admin --synthetic >/dev/null
cp "$tmp/a.xml" "$tmp/moving.xml"
env -u IOHEME_PASSWORD python3 - "$IOHEME" "$tmp/moving.xml" "$rt4" <<'PY' || fail "a file changed during its import"
import os, pty, sys
ioheme, path, db = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(ioheme, [ioheme, "import", "odm", path, "--reason", "moving", "--db", db])
def read_all(until=None):
    buf = b""
    while until is None or until not in buf:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child has gone: the terminal is closed
            break
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors="replace")
seen = read_all(b"Password for ")
assert "Password for " in seen, "no password prompt: " + seen
with open(path, "ab") as f:  # one more byte than was read the first time: a comment
    f.write(b"<!-- changed while the import waited -->\n")
os.write(fd, b"e2e-password-1\n")
out = read_all()
_, status = os.waitpid(pid, 0)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0, (status, out)
assert "changed while it was imported" in out, out
print("a file changed between its readings: refused")
PY
n=$(test_sql "$rt4" "select count(*) from record")
[ "$n" -eq 0 ] || fail "an import of a file changed meanwhile left $n records"

# ---- a 1,000-patient simulated study validates
# (the whole test takes ~27 s under ASan/UBSan, so the sanitizer build runs 1,000 too; ODM_BIG
# overrides)
# On PostgreSQL the study is simulated in SQLite and moved with `ioheme migrate` (a third of the
# time of simulating there, where each write is a round trip; pg_e2e_simulate simulates on
# PostgreSQL): the export reads the same 1,000 patients from PostgreSQL either way.
big=${ODM_BIG:-1000}
bigdb=$(test_db big)
made=$bigdb
! on_pg || made="$tmp/big-made.db"
"$IOHEME" init --db "$made" --admin admin --synthetic >/dev/null
"$IOHEME" simulate --db "$made" --patients "$big" --seed 5 >/dev/null
! on_pg || "$IOHEME" migrate --from "$made" --to "$bigdb" >/dev/null
"$IOHEME" export odm --db "$bigdb" --out "$tmp/big.xml" >/dev/null
valid "$tmp/big.xml"
n=$(grep -c '<SubjectData' "$tmp/big.xml")
s=$(test_sql "$bigdb" "select count(*) from record")
[ "$n" -eq "$s" ] || fail "$n SubjectData for $s records"
echo "odm_export: ok ($big-patient study: $n subjects, $(wc -c <"$tmp/big.xml") bytes)"
