#!/bin/sh
# The report's numbers equal `ioheme stats` run on the exported analysis dataset (SAP §4): a
# simulated study of 52 patients, `ioheme report`, then `ioheme stats binom / wilson / km` on
# the same counts and on dataset/subjects.csv; and a study with no patients yet still gets a
# report (zeros, no survival figure). How long the report takes is measured by bench/analysis,
# not here.
# backends: sqlite postgresql
set -eu
IOHEME=${IOHEME:-ioheme}
IOHEME_SRC=${IOHEME_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
W=$tmp # the work directory testdb.sh names its studies after
. "$IOHEME_SRC/tests/e2e/testdb.sh"
export IOHEME_USER=admin IOHEME_PASSWORD=e2e-password-1
S=$(test_db s)
"$IOHEME" init --db "$S" --admin admin --synthetic >/dev/null
"$IOHEME" simulate --db "$S" --patients 52 --seed 7 >/dev/null
"$IOHEME" report --db "$S" --out "$tmp/r" >/dev/null

get() { python3 -c "import json,sys; r=json.load(open('$tmp/r/results.json')); print($1)"; }
fx=$(get "r['primary']['first_attempt_success']['x']")
fn=$(get "r['primary']['first_attempt_success']['n']")
ex=$(get "r['primary']['efficacy']['x']")
en=$(get "r['primary']['efficacy']['n']")
"$IOHEME" stats binom --x "$fx" --n "$fn" >"$tmp/fa_binom.json"
"$IOHEME" stats wilson --x "$fx" --n "$fn" >"$tmp/fa_wilson.json"
"$IOHEME" stats binom --x "$ex" --n "$en" >"$tmp/eff_binom.json"
"$IOHEME" stats km --input "$tmp/r/dataset/subjects.csv" --time os_days --event os_status \
    --times 28,90 >"$tmp/km.json"

python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
r = json.load(open(f"{d}/r/results.json"))
load = lambda f: json.load(open(f"{d}/{f}"))
bad = []
def same(what, got, want):
    if got != want:
        bad.append(f"{what}: report {got}, ioheme stats {want}")
fa, eff, os_ = r["primary"]["first_attempt_success"], r["primary"]["efficacy"], r["primary"]["overall_survival"]
b, w, e = load("fa_binom.json"), load("fa_wilson.json"), load("eff_binom.json")
same("first-attempt estimate", fa["estimate"], b["estimate"])
same("first-attempt exact CI", fa["ci_exact"], b["conf_int"])
same("first-attempt Wilson CI", fa["ci_wilson"], w["conf_int"])
same("efficacy exact CI", eff["ci_exact"], e["conf_int"])
km = load("km.json")["strata"][0]
same("OS n", os_["n"], km["n"])
for k in ("median", "median_lower", "median_upper"):
    same(f"OS {k}", os_[k], km[k])
at = km["at_times"]
for i, t in enumerate(at["time"]):
    key = f"surv_{int(t)}"
    for a, b2 in (("estimate", "surv"), ("lower", "lower"), ("upper", "upper")):
        same(f"OS {key} {a}", os_[key][a], at[b2][i])
if len(at["time"]) != 2:
    bad.append(f"km at times: {at['time']}")
for m in bad:
    print("FAIL", m)
print(f"report vs ioheme stats: {'ok' if not bad else str(len(bad)) + ' mismatches'}")
sys.exit(1 if bad else 0)
PY

# Every number points to a section of the plan (issue: "Every number in the report points to a
# section of this plan"): each "sap" in results.json and each "SAP §…" in report.html names a
# section that docs/sap.md has, and Table 1 cites the plan's baseline section.
sap_md="$(cd "$(dirname "$0")/../.." && pwd)/docs/sap.md"
python3 - "$tmp" "$sap_md" <<'PY'
import json, re, sys
d, sap_md = sys.argv[1], sys.argv[2]
heads = set()
for line in open(sap_md, encoding="utf-8"):
    m = re.match(r"#{2,3} (\d+(?:\.\d+)?)\.? ", line)
    if m:
        heads.add(m.group(1))
r = json.load(open(f"{d}/r/results.json"))
refs = set()
def walk(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "sap" and isinstance(v, str):
                refs.update(re.findall(r"§(\d+(?:\.\d+)?)", v))
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(r)
html = open(f"{d}/r/report.html", encoding="utf-8").read()
for grp in re.findall(r"SAP ((?:§\d+(?:\.\d+)?(?:, )?)+)", html):
    refs.update(re.findall(r"§(\d+(?:\.\d+)?)", grp))
bad = sorted(x for x in refs if x not in heads)
t1 = {row.get("sap") for row in r["baseline"]}
if t1 != {"§2.1"}:
    bad.append(f"Table 1 cites {sorted(t1)}, not the plan's baseline section §2.1")
for m in bad:
    print("SAP reference without a section in docs/sap.md:", m)
print(f"SAP references: {len(refs)} distinct, {'ok' if not bad else 'BAD'}")
sys.exit(1 if bad else 0)
PY

E=$(test_db empty)
"$IOHEME" init --db "$E" --admin admin >/dev/null
"$IOHEME" report --db "$E" --out "$tmp/empty"
python3 -c "import json,sys; r=json.load(open('$tmp/empty/results.json')); sys.exit(0 if r['status']['screened'] == 0 and r['primary']['first_attempt_success']['n'] == 0 else 1)"
test -s "$tmp/empty/report.html"
echo "empty study: ok"
