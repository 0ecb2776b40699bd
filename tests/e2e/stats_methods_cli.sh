#!/bin/sh
# `ioheme stats` non-survival methods end to end: the JSON printed for R's fixture inputs must
# carry R's numbers (tests/fixtures/stats/*.csv from make.R, 1e-9 relative), missing values are
# counted in n_omitted, and bad input fails with a message naming the option, column or line.
set -eu
: "${IOHEME:?}" "${IOHEME_FIXTURES:?}"
exec python3 - "$IOHEME" "$IOHEME_FIXTURES/stats" <<'PY'
import csv, json, math, os, shutil, subprocess, sys, tempfile

exe, fx = sys.argv[1], sys.argv[2]
data = os.path.join(fx, "data")
failures = []

def run(*args):
    p = subprocess.run([exe, "stats", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr

def ok(*args):
    rc, out, err = run(*args)
    if rc != 0:
        failures.append(f"{args}: exit {rc}: {err.strip()}")
        return None
    return json.loads(out)

def num(s):
    if s in ("NA", "NaN", None):
        return float("nan")
    return float(s)

def jnum(v):
    if v is None:
        return float("nan")
    if v == "Inf":
        return math.inf
    if v == "-Inf":
        return -math.inf
    return float(v)

def close(got, want):
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want) or want == 0:
        return got == want
    return abs(got - want) <= 1e-9 * abs(want)

def expect(label, got, want):
    g, w = jnum(got), num(want)
    if not close(g, w):
        failures.append(f"{label}: got {g!r}, R gives {w!r}")

def rows(name, **match):
    with open(os.path.join(fx, name)) as f:
        for r in csv.DictReader(f):
            if all(r[k] == v for k, v in match.items()):
                return r
    raise SystemExit(f"no fixture row {match} in {name}")

def fails(label, args, *needles):
    rc, out, err = run(*args)
    if rc == 0:
        failures.append(f"{label}: succeeded, expected an error")
        return
    for n in needles:
        if n not in err:
            failures.append(f"{label}: message {err.strip()!r} does not name {n!r}")

# binom.test(44, 52, 0.7)
r = rows("binom.csv", x="44", n="52", alternative="two.sided", conf_level="0.94999999999999996")
j = ok("binom", "--x", "44", "--n", "52", "--p", "0.7")
if j:
    expect("binom p", j["p_value"], r["p_value"])
    expect("binom lo", j["conf_int"][0], r["lo"]); expect("binom hi", j["conf_int"][1], r["hi"])
    expect("binom estimate", j["estimate"], r["estimate"])
r = rows("binom.csv", x="0", n="10", alternative="less", conf_level="0.90000000000000002")
j = ok("binom", "--x", "0", "--n", "10", "--alternative", "less", "--conf-level", "0.9")
if j:
    expect("binom x=0 less p", j["p_value"], r["p_value"]); expect("binom x=0 hi", j["conf_int"][1], r["hi"])

# prop.test(3, 10, 0.3, correct = FALSE, alternative = "greater")
r = rows("wilson.csv", x="3", n="10", alternative="greater", correct="FALSE")
j = ok("wilson", "--x", "3", "--n", "10", "--p", "0.3", "--correct", "false", "--alternative", "greater")
if j:
    for k in ("statistic", "p_value"):
        expect(f"wilson {k}", j[k], r[k])
    expect("wilson lo", j["conf_int"][0], r["lo"]); expect("wilson hi", j["conf_int"][1], r["hi"])
    if r["approx_warning"] == "TRUE" and not j["warnings"]:
        failures.append("wilson: R's approximation warning missing")

r = rows("poisson.csv", events="17", conf_level="0.98999999999999999")
j = ok("poisson", "--events", "17", "--exposure", "52.25", "--conf-level", "0.99")
if j:
    expect("poisson rate", j["rate"], r["rate"])
    expect("poisson lo", j["conf_int"][0], r["lo"]); expect("poisson hi", j["conf_int"][1], r["hi"])

# wilcox.test: paired with zeros and ties (normal path), two-sample exact, NA rows.
for file, args, match in [
    ("paired_ties", ["--x", "x", "--y", "y"], dict(file="paired_ties", alternative="two.sided", exact="NA", correct="TRUE")),
    ("paired_na", ["--x", "x", "--y", "y", "--alternative", "greater"], dict(file="paired_na", alternative="greater")),
    ("two_exact", ["--value", "value", "--group", "group", "--mu", "-2", "--exact", "false", "--conf-level", "0.9", "--alternative", "less"],
     dict(file="two_exact", mu="-2", alternative="less")),
    ("two_large", ["--value", "value", "--group", "group"], dict(file="two_large", alternative="two.sided", exact="NA")),
]:
    r = rows("wilcoxon.csv", **match)
    j = ok("wilcoxon", "--input", os.path.join(data, file + ".csv"), *args)
    if j:
        for k in ("statistic", "p_value", "estimate"):
            expect(f"wilcoxon {file} {k}", j[k], r[k])
        expect(f"wilcoxon {file} lo", j["conf_int"][0], r["lo"]); expect(f"wilcoxon {file} hi", j["conf_int"][1], r["hi"])
        if j["method"] != r["method"]:
            failures.append(f"wilcoxon {file} method {j['method']!r} != {r['method']!r}")
        want_w = [w for w in r["warnings"].split(";") if w and w != "NA"]
        if j["warnings"] != want_w:
            failures.append(f"wilcoxon {file} warnings {j['warnings']} != {want_w}")
j = ok("wilcoxon", "--input", os.path.join(data, "paired_na.csv"), "--x", "x", "--y", "y")
if j and (j["n_omitted"] != 3 or j["n"] != 6):
    failures.append(f"wilcoxon paired_na: n {j['n']} n_omitted {j['n_omitted']}, want 6 and 3")

# t.test: paired with NA, Welch.
for file, args, match in [
    ("paired_na", ["--x", "x", "--y", "y"], dict(file="paired_na", kind="paired", alternative="two.sided")),
    ("two_ties", ["--value", "value", "--group", "group", "--mu", "-1", "--conf-level", "0.99", "--alternative", "less"],
     dict(file="two_ties", kind="two", alternative="less")),
]:
    r = rows("ttest.csv", **match)
    j = ok("ttest", "--input", os.path.join(data, file + ".csv"), *args)
    if j:
        for k in ("statistic", "df", "p_value", "estimate"):
            expect(f"ttest {file} {k}", j[k], r[k])
        expect(f"ttest {file} lo", j["conf_int"][0], r["lo"]); expect(f"ttest {file} hi", j["conf_int"][1], r["hi"])

# fisher.test: a table with a zero; two categorical columns.
r = rows("fisher.csv", a="0", b="5", c="6", d="4", alternative="two.sided", conf_level="0.94999999999999996")
j = ok("fisher", "--table", "0,5,6,4")
if j:
    expect("fisher p", j["p_value"], r["p_value"]); expect("fisher estimate", j["estimate"], r["estimate"])
    expect("fisher lo", j["conf_int"][0], r["lo"]); expect("fisher hi", j["conf_int"][1], r["hi"])
r = rows("fisher_input.csv", file="cat_22")
j = ok("fisher", "--input", os.path.join(data, "cat_22.csv"), "--x", "x", "--y", "y")
if j:
    for k in ("p_value", "estimate"):
        expect(f"fisher input {k}", j[k], r[k])
    expect("fisher input hi", j["conf_int"][1], r["hi"])
    if j["n_omitted"] != int(r["n_omitted"]):
        failures.append("fisher input n_omitted")

# chisq.test: 2x2 with and without Yates, r x c from columns.
for corr in ("TRUE", "FALSE"):
    r = rows("chisq.csv", case="t22", correct=corr)
    j = ok("chisq", "--table", "10,2,3,15", "--correct", corr.lower())
    if j:
        for k in ("statistic", "df", "p_value"):
            expect(f"chisq t22 {corr} {k}", j[k], r[k])
for file in ("cat_rc", "cat_22"):
    r = rows("chisq_input.csv", file=file)
    j = ok("chisq", "--input", os.path.join(data, file + ".csv"), "--x", "x", "--y", "y")
    if j:
        for k in ("statistic", "df", "p_value"):
            expect(f"chisq {file} {k}", j[k], r[k])
        if j["n_omitted"] != int(r["n_omitted"]):
            failures.append(f"chisq {file} n_omitted")

# quantile with NA and with n = 1.
for file, omitted in (("desc_na", 1), ("desc_one", 0)):
    r = rows("describe.csv", file=file)
    j = ok("quantile", "--input", os.path.join(data, file + ".csv"), "--value", "v")
    if j:
        for k in ("n", "median", "q1", "q3", "iqr", "mean", "sd", "min", "max"):
            expect(f"quantile {file} {k}", j[k], r[k])
        if j["n_omitted"] != omitted:
            failures.append(f"quantile {file} n_omitted {j['n_omitted']}")

# sample size: the protocol's design and precision figures.
r = rows("samplesize.csv", p0="0.69999999999999996", p1="0.87")
j = ok("samplesize", "--p0", "0.70", "--p1", "0.87", "--dropout", "0.05")
if j:
    for k in ("n_normal_raw", "n_normal", "n_exact", "power_exact", "n_with_dropout"):
        expect(f"samplesize {k}", j[k], r[k])
    if (j["n_normal"], j["n_with_dropout"]) != (49, 52):
        failures.append("samplesize: the protocol's 49 -> 52 not reproduced")
r = rows("precision.csv", x="44", n="52")
j = ok("samplesize", "--x", "44", "--n", "52")
if j:
    expect("precision half_width", j["half_width"], r["half_width"])
    expect("precision lo", j["conf_int"][0], r["lo"]); expect("precision hi", j["conf_int"][1], r["hi"])
r = rows("precision_n.csv", p1="0.84599999999999997")
j = ok("samplesize", "--p1", "0.846", "--half-width", "0.106")
if j:
    expect("precision n", j["n_precision"], r["n_precision"])

# Bad input: clear errors, non-zero exit.
tmp = tempfile.mkdtemp()
bad = os.path.join(tmp, "bad.csv")
with open(bad, "w") as f:
    f.write("x,y,value,group\n1,2,3,a\n2,oops,4,a\n3,4,5,a\n")
fails("x > n", ["binom", "--x", "11", "--n", "10"], "x")
fails("count not whole", ["binom", "--x", "2.5", "--n", "10"], "--x")
fails("missing --n", ["wilson", "--x", "3"], "--n")
fails("missing column", ["wilcoxon", "--input", bad, "--x", "x", "--y", "nope"], "nope")
fails("non-numeric value", ["ttest", "--input", bad, "--x", "x", "--y", "y"], "line 3", "'y'", "oops")
fails("one group only", ["wilcoxon", "--input", bad, "--value", "value", "--group", "group"], "group", "2 groups")
fails("table size", ["fisher", "--table", "1,2,3"], "--table", "4")
fails("negative count", ["chisq", "--table", "1,-2,3,4"], "--table")
fails("3x3 for fisher", ["fisher", "--input", os.path.join(data, "cat_rc.csv"), "--x", "x", "--y", "y"], "2x2")
fails("bad alternative", ["binom", "--x", "1", "--n", "2", "--alternative", "sideways"], "alternative")
fails("no input", ["quantile", "--value", "v"], "--input")
fails("bad dropout", ["samplesize", "--p0", "0.7", "--p1", "0.87", "--dropout", "1"], "dropout")
fails("equal p0 p1", ["samplesize", "--p0", "0.7", "--p1", "0.7"], "p1")
shutil.rmtree(tmp)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok")
PY
