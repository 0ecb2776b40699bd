#!/bin/sh
# `ioheme stats km | logrank | cox` end to end: the JSON printed for the R fixture inputs matches
# survival's numbers in tests/fixtures/survival/*.json (1e-9 relative), NA rows are counted in
# n_omitted, and bad input fails with a non-zero exit and a message naming line and column.
set -eu
: "${IOHEME:?}" "${IOHEME_FIXTURES:?}"
F="$IOHEME_FIXTURES/survival"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# compare OUT.json FIXTURE CASE WHAT: WHAT picks the fixture part the CLI output must match
compare() {
    python3 - "$@" <<'PY'
import json, math, sys
out, fixture, case, what = sys.argv[1:5]
got = json.load(open(out))
want = [c for c in json.load(open(fixture)) if c["name"] == case][0]
def num(v):
    if v is None: return math.nan
    if v == "Inf": return math.inf
    if v == "-Inf": return -math.inf
    return float(v)
def vec(v):
    if isinstance(v, list):
        r = []
        for x in v: r.extend(vec(x) if isinstance(x, list) else [num(x)])
        return r
    return [num(v)]
bad = []
def close(path, g, w, tol=1e-9):
    g, w = vec(g), vec(w)
    if len(g) != len(w):
        bad.append(f"{path}: length {len(g)} vs R {len(w)}"); return
    for i, (a, b) in enumerate(zip(g, w)):
        if math.isnan(b) and math.isnan(a): continue
        if a == b: continue
        if math.isnan(a) or math.isnan(b) or abs(a - b) > tol * abs(b):
            bad.append(f"{path}[{i}]: {a!r} vs R {b!r}")
exp = want["expected"]
if what == "km":
    assert len(got["strata"]) == len(exp["strata"]), "number of strata"
    for g, w in zip(got["strata"], exp["strata"]):
        assert g["name"] == w["name"], (g["name"], w["name"])
        for k in ["n", "time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower",
                  "upper", "median", "median_lower", "median_upper"]:
            close(w["name"] + "." + k, g[k], w[k])
        if "at_times" in w:
            for k in w["at_times"]:
                close(w["name"] + ".at_times." + k, g["at_times"][k], w["at_times"][k])
elif what == "logrank":
    for k in ["n", "obs", "exp", "var", "chisq", "df", "p_value"]:
        close(k, got[k], exp[k])
    assert got["groups"] == [want["group_col"] + "=" + l for l in want["groups"]], got["groups"]
else:
    for k in ["coef", "se", "hr", "hr_lower", "hr_upper", "z", "p", "loglik_null", "loglik",
              "n", "nevent", "iter", "concordance"]:
        close(k, got[k], exp[k])
    for t in ["lrt", "wald", "score"]:
        for k in ["stat", "df", "p"]:
            close(t + "." + k, got[t][k], exp[t][k])
    assert got["terms"] == exp["terms"], (got["terms"], exp["terms"])
    assert got["warnings"] == exp["warnings"], (got["warnings"], exp["warnings"])
if bad:
    print(case, *bad[:20], sep="\n  "); sys.exit(1)
PY
}

"$IOHEME" stats km --input "$F/lung.csv" --time time --event status --group sex \
    --times 100,365,730,2000 >"$tmp/o.json"
compare "$tmp/o.json" "$F/km.json" lung_sex_log km
"$IOHEME" stats km --input "$F/veteran.csv" --time time --event status --group trt \
    --conf-type log-log --times 30,90,1000 >"$tmp/o.json"
compare "$tmp/o.json" "$F/km.json" veteran_trt_log-log km
"$IOHEME" stats km --input "$F/flat05.csv" --time time --event status --conf-type plain \
    --times 0.5,4 >"$tmp/o.json"
compare "$tmp/o.json" "$F/km.json" flat05_plain km
"$IOHEME" stats km --input "$F/lung.csv" --time time --event status --group ph_ecog >"$tmp/o.json"
compare "$tmp/o.json" "$F/km.json" lung_ecog_log km
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['n_omitted']==1, d['n_omitted']" "$tmp/o.json"

"$IOHEME" stats logrank --input "$F/veteran.csv" --time time --event status --group celltype \
    --rho 1 >"$tmp/o.json"
compare "$tmp/o.json" "$F/logrank.json" veteran_celltype_rho1 logrank
"$IOHEME" stats logrank --input "$F/lung.csv" --time time --event status --group sex \
    --strata ph_ecog >"$tmp/o.json"
compare "$tmp/o.json" "$F/logrank.json" lung_sex_strata_ecog logrank

"$IOHEME" stats cox --input "$F/veteran.csv" --time time --event status \
    --covariates trt,karno,celltype >"$tmp/o.json"
compare "$tmp/o.json" "$F/cox.json" veteran_trt_karno_celltype_efron cox
"$IOHEME" stats cox --input "$F/lung.csv" --time time --event status \
    --covariates age,sex,ph_ecog --ties breslow >"$tmp/o.json"
compare "$tmp/o.json" "$F/cox.json" lung_age_sex_ecog_breslow cox
"$IOHEME" stats cox --input "$F/ties.csv" --time time --event status --covariates x,grp \
    >"$tmp/o.json"
compare "$tmp/o.json" "$F/cox.json" ties_x_grp_efron cox
"$IOHEME" stats cox --input "$F/monotone.csv" --time time --event status --covariates x,z \
    >"$tmp/o.json"
compare "$tmp/o.json" "$F/cox.json" monotone_x_z cox
"$IOHEME" stats cox --input "$F/redundant.csv" --time time --event status --covariates x,x2 \
    >"$tmp/o.json"
compare "$tmp/o.json" "$F/cox.json" collinear_x_x2 cox

# Bad input: non-zero exit, message naming the CSV line and the column.
fails() { # expected-substring... -- command...
    want=""
    while [ "$1" != "--" ]; do want="$want|$1"; shift; done
    shift
    if "$@" >"$tmp/out" 2>"$tmp/err"; then
        echo "should have failed: $*"; exit 1
    fi
    echo "$want" | tr '|' '\n' | while read -r w; do
        [ -z "$w" ] && continue
        grep -qF -- "$w" "$tmp/err" || { echo "error lacks '$w': $(cat "$tmp/err")"; exit 1; }
    done
}
printf 'time,status,g\n5,1,A\n-3,0,B\n7,1,B\n' >"$tmp/neg.csv"
fails "line 3" "'time'" -- "$IOHEME" stats km --input "$tmp/neg.csv" --time time --event status
printf 'time,status,g\n5,1,A\n6,2,B\n7,1,B\n' >"$tmp/ev.csv"
fails "line 3" "'status'" "not 0 or 1" -- "$IOHEME" stats logrank --input "$tmp/ev.csv" \
    --time time --event status --group g
printf 'time,status,g\n5,1,A\nfive,0,B\n7,1,B\n' >"$tmp/nn.csv"
fails "line 3" "'time'" "not a number" -- "$IOHEME" stats cox --input "$tmp/nn.csv" \
    --time time --event status --covariates g
fails "no column 'weight'" -- "$IOHEME" stats cox --input "$F/lung.csv" --time time \
    --event status --covariates age,weight
fails "no column 'arm'" -- "$IOHEME" stats km --input "$F/lung.csv" --time time \
    --event status --group arm
printf 'time,status,g\n5,1,A\n6,0,A\n7,1,A\n' >"$tmp/one.csv"
fails "'g'" "at least 2 groups" -- "$IOHEME" stats logrank --input "$tmp/one.csv" \
    --time time --event status --group g
printf 'time,status,g\n5,1,NA\n6,0,\n' >"$tmp/empty.csv"
fails "no complete rows" -- "$IOHEME" stats logrank --input "$tmp/empty.csv" \
    --time time --event status --group g
fails "--group COL is required" -- "$IOHEME" stats logrank --input "$F/lung.csv" --time time \
    --event status
fails "conf-type" -- "$IOHEME" stats km --input "$F/lung.csv" --time time --event status \
    --conf-type logit
printf 'time,status,time\n5,1,6\n7,0,8\n' >"$tmp/dupcol.csv"
fails "column 'time' appears more than once" -- "$IOHEME" stats km --input "$tmp/dupcol.csv" \
    --time time --event status
printf 'time,status\n5,1\nnan,0\n' >"$tmp/nan.csv"
fails "line 3" "'time'" "not a number" -- "$IOHEME" stats km --input "$tmp/nan.csv" \
    --time time --event status
# An option the method does not read is refused, never silently ignored: a stratified or 90%
# Cox model must not quietly come back unstratified at 95%.
fails "--strata does not apply to cox" -- "$IOHEME" stats cox --input "$F/ovarian.csv" \
    --time time --event status --covariates age,rx --strata resid
fails "--conf-level does not apply to cox" -- "$IOHEME" stats cox --input "$F/ovarian.csv" \
    --time time --event status --covariates age,rx --conf-level 0.9
fails "--strata does not apply to km" -- "$IOHEME" stats km --input "$F/ovarian.csv" \
    --time time --event status --strata resid
fails "--exact does not apply to ttest" -- "$IOHEME" stats ttest --input "$F/ovarian.csv" \
    --value age --group rx --exact true
echo ok
