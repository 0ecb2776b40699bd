#!/bin/sh
# The study report as a reader sees it (issue 10), on the committed dataset
# (tests/fixtures/analysis): section numbers run 1, 2, 3... and each section's subsections
# N.1, N.2... without gaps; printed, a heading stays with what follows it and a figure is not
# split (the print stylesheet); Table 1 has a row for every first IO site and device the FAS
# has, with the counts of dataset/subjects.csv; the completeness tables name forms by the labels
# the data-entry screens use (`ioheme protocol show --json`), not by their form names.
set -eu
IOHEME=${IOHEME:-ioheme}
here=$(cd "$(dirname "$0")" && pwd)
fix="$here/../fixtures/analysis"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$IOHEME" report --dataset "$fix" --out "$tmp/r" >/dev/null
"$IOHEME" protocol show --json "$here/../../protocols/io-heme" >"$tmp/protocol.json"
python3 - "$tmp/r" "$fix" "$tmp/protocol.json" <<'PY'
import csv, html, json, re, sys
d, fix, proto = sys.argv[1:]
page = open(f"{d}/report.html", encoding="utf-8").read()
r = json.load(open(f"{d}/results.json", encoding="utf-8"))
bad = []

# section numbers: h2 "N. title", h3 "N.M title", no gaps, subsections under their section
h2 = 0
h3 = 0
for level, text in re.findall(r"<h([23])[^>]*>(.*?)</h\1>", page):
    m = re.match(r"(\d+)\.(\d+)? ", text) if level == "3" else re.match(r"(\d+)\. ", text)
    if not m:
        bad.append(f"heading without a number: {text[:40]}")
        continue
    if level == "2":
        h2, h3 = h2 + 1, 0
        if int(m.group(1)) != h2:
            bad.append(f"section {m.group(1)} where {h2} comes next: {text[:40]}")
    else:
        h3 += 1
        if (int(m.group(1)), int(m.group(2))) != (h2, h3):
            bad.append(f"subsection {m.group(1)}.{m.group(2)} where {h2}.{h3} comes next")
if h2 < 7:
    bad.append(f"only {h2} sections")

# print: headings keep with what follows, figures and kept blocks are not split
css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
prn = css[css.index("@media print"):]
def rule(sel, prop):
    return re.search(r"(?:^|[}{,])" + re.escape(sel) + r"(?:,[^{]*)?\{[^}]*" + re.escape(prop), prn)
for sel, prop in (("h2", "break-after:avoid"), ("h3", "break-after:avoid"),
                  ("figure", "break-inside:avoid"), (".keep", "break-inside:avoid")):
    if not rule(sel, prop):
        bad.append(f"print stylesheet lacks {sel}{{{prop}}}")
# the heading of the survival section and its figure sit in one unbreakable block
if not re.search(r'<div class="keep"><h3>[^<]*Overall survival.*?</h3>\s*<figure id="fig-km_overall"', page, re.S):
    bad.append("the Overall survival heading and its figure are not kept together")

# Table 1: a row per first site and device of the FAS, with its count
subj = [row for row in csv.DictReader(open(f"{fix}/subjects.csv")) if row["in_fas"] == "1"]
rows = {row["label"]: row for row in r["baseline"]}
def count(col):
    c = {}
    for s in subj:
        if s[col]:
            c[s[col]] = c.get(s[col], 0) + 1
    return c
names = {"humerus": "Proximal humerus", "tibia": "Proximal tibia", "distal_tibia": "Distal tibia",
         "femur": "Distal femur", "sternum": "Sternum", "other": "Other site"}
want = [(f"First site: {names[k]}", n) for k, n in count("first_site").items()]
want += [(f"Device: {k if k not in ('manual', 'other') else k.capitalize()}", n)
         for k, n in count("first_device").items()]
if len(count("first_site")) < 3:
    bad.append("the fixture should have more than two first sites")
t1 = page[page.index('id="table1"'):page.index('id="primary"')]
for label, n in want:
    row = rows.get(label)
    if not row or row["n"] != n:
        bad.append(f"Table 1: {label} should count {n}, results.json has {row and row['n']}")
    if not re.search(re.escape(html.escape(label, quote=False)) + r"</td><td class=\"n\">\d+</td><td class=\"n\">" + str(n) + " ", t1):
        bad.append(f"Table 1 on the page lacks the row {label}: {n}")

# completeness: form labels, not form names
labels = {f["name"]: f["label"] for f in json.load(open(proto))["forms"]}
comp = page[page.index('id="completeness"'):]
comp = comp[:comp.find("<h2", 10)]
cells = re.findall(r"<tr><td>([^<]*)</td>", comp)
if not cells:
    bad.append("no completeness rows")
for c in cells:
    c = html.unescape(c)
    if c in labels and labels[c] != c:
        bad.append(f"completeness names the form {c!r}, not {labels[c]!r}")
for f in r["completeness"]["forms"]:
    if f.get("form_label") != labels[f["form"]]:
        bad.append(f"form {f['form']}: label {f.get('form_label')!r}, protocol says {labels[f['form']]!r}")
if "<td>IO procedure</td>" not in comp:
    bad.append("the IO procedure form is not named by its label")

# the enrolment figure's caption states no target of its own (the target is the protocol's,
# drawn in the figure; the caption once said "of 52" whatever study.csv said)
cap = re.search(r'<figure id="fig-enrolment">.*?<figcaption>(.*?)</figcaption>', page, re.S)
if not cap or re.search(r"target of \d", cap.group(1)):
    bad.append(f"enrolment caption: {cap.group(1)[:80] if cap else 'missing'}")

for m in bad:
    print("FAIL", m)
print(f"report as a reader sees it: {'ok' if not bad else str(len(bad)) + ' problems'}")
sys.exit(1 if bad else 0)
PY
