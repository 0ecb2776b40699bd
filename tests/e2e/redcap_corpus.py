"""Compares what `ioheme protocol show --json` loaded from a REDCap data dictionary with the
dictionary itself, field by field (redcap_corpus.sh runs it on every corpus case that loads).

Usage: redcap_corpus.py DICTIONARY.csv SHOW.json; prints each difference, exits 1 on any."""
import csv
import json
import sys


def choices(cell):
    out = []
    for item in cell.split("|"):
        code, _, label = item.partition(",")
        out.append((code.strip(), label.strip()))
    return out


def main():
    with open(sys.argv[1], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    with open(sys.argv[2], encoding="utf-8") as fh:
        shown = json.load(fh)
    rows = [r for r in rows[1:] if any(c.strip() for c in r)]
    fields = shown["fields"]
    bad = []
    if len(rows) != len(fields):
        bad.append(f"{len(rows)} rows, {len(fields)} fields loaded")
    for row, f in zip(rows, fields):
        row = row + [""] * (18 - len(row))
        name, ftype = row[0], row[3]
        want = {
            "name": name,
            "form": row[1],
            "type": ftype,
            "label": row[4],
            "note": row[6],
            "validation": "" if ftype == "slider" and row[7] == "number" else row[7],
            "identifier": row[10] == "y",
            "required": row[12] == "y",
            "min": row[8].strip() or None,
            "max": row[9].strip() or None,
            "branching": row[11] or None,
            "annotation": row[17] or None,
        }
        if ftype in ("dropdown", "radio", "checkbox"):
            want["choices"] = choices(row[5])
        if ftype == "calc":
            want["calc"] = row[5]
        for key, value in want.items():
            got = f.get(key)
            if key == "choices":
                got = [(c["code"], c["label"]) for c in got or []]
            if got != value:
                bad.append(f"{name}: {key} is {got!r}, the dictionary says {value!r}")
    for line in bad[:20]:
        print(f"{sys.argv[1]}: {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
