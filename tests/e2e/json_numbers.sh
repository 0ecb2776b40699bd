#!/bin/sh
# JSON numbers print as the shortest text that reads back as the same double (issue 10: "0.95,
# not 0.94999999999999996"), in every JSON ioheme writes from the command line: `ioheme stats`
# and the report's results.json. Each number token must have no more significant digits than
# the shortest round-trip text (Python's repr) or 15, whichever is more, and read back as the
# double the same computation gives in Python where one is known (0.95, 44/52).
set -eu
IOHEME=${IOHEME:-ioheme}
fix=${IOHEME_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$IOHEME" stats binom --x 44 --n 52 >"$tmp/binom.json"
"$IOHEME" stats km --input "$fix/analysis/subjects.csv" --time os_days --event os_status \
    --times 28,90 >"$tmp/km.json"
"$IOHEME" report --dataset "$fix/analysis" --out "$tmp/r" >/dev/null
python3 - "$tmp/binom.json" "$tmp/km.json" "$tmp/r/results.json" <<'PY'
import json, re, sys
bad = []
number = re.compile(r'(?<![\w."])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w."])')
def digits(tok):
    m = tok.lstrip("-").split("e")[0].split("E")[0].replace(".", "").lstrip("0")
    return len(m.rstrip("0")) if "." in tok or "e" in tok.lower() else len(m)
total = 0
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    json.loads(text)
    # numbers outside strings only: drop the strings first
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    for tok in number.findall(bare):
        total += 1
        want = max(15, digits(repr(float(tok))))
        if digits(tok) > want:
            bad.append(f"{path.rsplit('/', 1)[-1]}: {tok} (shortest is {repr(float(tok))})")
b = json.load(open(sys.argv[1]))
if b["conf_level"] != 0.95 or '"conf_level": 0.95,' not in open(sys.argv[1]).read():
    bad.append(f"conf_level prints as {b['conf_level']!r}, not 0.95")
if b["estimate"] != 44 / 52:
    bad.append(f"estimate {b['estimate']!r} is not the double 44/52")
for m in bad[:20]:
    print("FAIL", m)
print(f"JSON numbers: {total} checked, {'ok' if not bad else str(len(bad)) + ' not shortest'}")
sys.exit(1 if bad else 0)
PY
