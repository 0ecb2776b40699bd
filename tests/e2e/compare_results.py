#!/usr/bin/env python3
"""Holds an ioheme results.json against expected values.

usage: compare_results.py RESULTS.json EXPECTED.json
EXPECTED.json is {"values": {"path.into[0].results": [value, rel_tol], ...}} (as written by
tests/fixtures/analysis/make.R). A value matches when |got - want| <= rel_tol * |want| or
|got - want| <= 1e-14; a null expected value must be null or absent. Prints every mismatch and
exits 1 if there is any."""
import json
import re
import sys


def resolve(doc, path):
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if name:
            if not isinstance(doc, dict) or name not in doc:
                return KeyError
            doc = doc[name]
        else:
            i = int(index)
            if not isinstance(doc, list) or i >= len(doc):
                return KeyError
            doc = doc[i]
    return doc


def main():
    results = json.load(open(sys.argv[1]))
    expected = json.load(open(sys.argv[2]))["values"]
    bad = 0
    for path, (want, tol) in expected.items():
        got = resolve(results, path)
        if want is None:
            ok = got is None or got is KeyError
        elif got is KeyError or got is None or isinstance(got, (dict, list, str)):
            ok = False
        else:
            ok = abs(got - want) <= tol * abs(want) or abs(got - want) <= 1e-14
        if not ok:
            bad += 1
            print(f"MISMATCH {path}: ioheme {got if got is not KeyError else 'missing'}, expected {want} (tol {tol})")
    print(f"{len(expected) - bad}/{len(expected)} values agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
