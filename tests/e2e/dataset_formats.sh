#!/bin/sh
# `ioheme dataset --format stata|spss|sas|r` (issue 14): the .dta, .sav and .sas7bdat files and
# the R loader are read back by readers nobody here wrote — R haven (dataset_formats.R: every
# value, label, date and yes/no label against the CSVs and the dictionary) and pandas
# (read_stata, read_sas: every value) — and the same database gives the same bytes twice.
# backends: sqlite postgresql
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL dataset_formats: $*"; exit 1; }
. "$IOHEME_SRC/tests/e2e/testdb.sh"
IOHEME_DB=$(test_db s)
export IOHEME_USER=admin IOHEME_PASSWORD=admin-pass-1 IOHEME_PROTOCOL="$IOHEME_SRC/protocols/io-heme" IOHEME_DB
I=$IOHEME
"$I" init --admin admin --synthetic >/dev/null
"$I" simulate --patients 40 --seed 11 >/dev/null
for f in stata spss sas r; do "$I" dataset --out "$W/$f" --format "$f" >/dev/null || fail "--format $f"; done
set +e; "$I" dataset --out "$W/x" --format excel 2>"$W/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "csv, stata, spss, sas or r, not 'excel'" "$W/err" || fail "a bad format: exit $rc $(cat "$W/err")"
ls "$W/stata/subjects.dta" "$W/spss/subjects.sav" "$W/sas/subjects.sas7bdat" "$W/r/dataset.R" >/dev/null
Rscript "$IOHEME_SRC/tests/e2e/dataset_formats.R" "$W/stata" "$W/spss" "$W/sas" "$W/r" || fail "haven"
/usr/bin/python3 - "$W" <<'PY' || fail "pandas (python3-pandas, Debian's python)"
import csv, math, sys, pandas as pd
w = sys.argv[1]
types, coded_levels = {}, {}
for r in csv.DictReader(open(f'{w}/stata/dataset_dictionary.csv')):
    types.setdefault(r['table'], []).append((r['column'], r['type']))
    if r['levels']:
        coded_levels[(r['table'], r['column'])] = r['levels'].split('|')
n = 0
for tab, cols in types.items():
    rows = list(csv.DictReader(open(f'{w}/stata/{tab}.csv')))
    for path, reader in ((f'{w}/stata/{tab}.dta', lambda p: pd.read_stata(p, convert_categoricals=False)),
                         (f'{w}/sas/{tab}.sas7bdat', lambda p: pd.read_sas(p, encoding='utf-8'))):
        df = reader(path)
        assert list(df.columns) == [c for c, _ in cols], (path, list(df.columns))
        assert len(df) == len(rows), (path, len(df), len(rows))
        for c, ty in cols:
            for i, row in enumerate(rows):
                want, got = row[c], df[c].iloc[i]
                missing = got is None or (isinstance(got, float) and math.isnan(got)) or (got is pd.NaT) or (isinstance(got, str) and got == '')
                coded = coded_levels.get((tab, c)) if path.endswith('.dta') else None
                if want == '':
                    assert missing, (path, c, i, got)
                elif coded:  # a coded column in Stata: the level's place, 1 first
                    assert got == coded.index(want) + 1, (path, c, i, got, want)
                elif ty == 'date':
                    assert str(pd.Timestamp(got).date()) == want, (path, c, i, got, want)
                elif ty == 'datetime':
                    assert pd.Timestamp(got) == pd.Timestamp(want), (path, c, i, got, want)
                elif ty == 'text':
                    assert got == want, (path, c, i, got, want)
                else:
                    assert abs(float(got) - float(want)) <= 1e-9 * max(1, abs(float(want))), (path, c, i, got, want)
                n += 1
print(f'dataset_formats: pandas agrees on {n} values')
# the dictionary's levels (a coded column's values in order, '|' between them): every value
# of such a column is one of them
coded = 0
for r in csv.DictReader(open(f'{w}/stata/dataset_dictionary.csv')):
    if r['levels']:
        levels = r['levels'].split('|')
        seen = {row[r['column']] for row in csv.DictReader(open(f"{w}/stata/{r['table']}.csv"))} - {''}
        assert seen <= set(levels), (r['table'], r['column'], seen - set(levels))
        coded += 1
assert coded >= 15, f'{coded} coded columns in the dictionary'
# and pandas' own reading of the value labels gives categoricals in the levels' order
hd = pd.read_stata(f'{w}/stata/haemodynamics.dta')
assert list(hd['timepoint'].cat.categories) == coded_levels[('haemodynamics', 'timepoint')], list(hd['timepoint'].cat.categories)
PY
# each export is audited with the SHA-256 of every file it wrote (sha256sum's, not ours)
"$I" audit export --out "$W/audit.csv" >/dev/null
for f in stata/subjects.dta stata/subjects.csv stata/dataset_dictionary.csv spss/screening.sav \
    sas/haemodynamics.sas7bdat r/dataset.R; do
    sha=$(sha256sum "$W/$f" | cut -d' ' -f1)
    grep "^[^,]*,[^,]*,[^,]*,export," "$W/audit.csv" | grep -q "$(basename "$f") $sha" ||
        fail "the export of $f is not audited with its SHA-256 $sha: $(grep ',export,' "$W/audit.csv" | tail -2)"
done
# the same database, the same bytes
"$I" dataset --out "$W/stata2" --format stata >/dev/null
for f in "$W"/stata/*.dta; do cmp -s "$f" "$W/stata2/$(basename "$f")" || fail "$(basename "$f") differs between two runs"; done
"$I" dataset --out "$W/spss2" --format spss >/dev/null
for f in "$W"/spss/*.sav; do cmp -s "$f" "$W/spss2/$(basename "$f")" || fail "$(basename "$f") differs between two runs"; done
echo "dataset_formats: ok"
