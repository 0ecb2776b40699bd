#!/bin/sh
# `ioheme report --dataset` on the committed simulated dataset (tests/fixtures/analysis) agrees
# with R (expected.json from make.R: binom.test, prop.test, survfit, survdiff, coxph,
# fisher.test, wilcox.test, t.test, poisson.test, quantile); the dataset it re-exports is
# byte-identical to its input; every figure is valid SVG (xmllint), PDF and PNG.
set -eu
IOHEME=${IOHEME:-ioheme}
here=$(cd "$(dirname "$0")" && pwd)
fix="$here/../fixtures/analysis"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$IOHEME" report --dataset "$fix" --out "$tmp/r"
python3 "$here/compare_results.py" "$tmp/r/results.json" "$fix/expected.json"
for f in "$fix"/*.csv; do
    cmp "$f" "$tmp/r/dataset/$(basename "$f")"
done
n=0
for f in "$tmp"/r/figures/*.svg; do
    xmllint --noout "$f"
    n=$((n + 1))
done
[ "$n" -ge 6 ] || { echo "FAIL: $n SVG figures, expected 6"; exit 1; }
python3 - "$tmp/r/figures" <<'PY'
import glob, struct, sys, zlib
bad = 0
for pdf in glob.glob(sys.argv[1] + "/*.pdf"):
    data = open(pdf, "rb").read()
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-64:]:
        print("FAIL: not a PDF:", pdf); bad += 1
for png in glob.glob(sys.argv[1] + "/*.png"):
    data = open(png, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        print("FAIL: PNG signature:", png); bad += 1; continue
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            print("FAIL: PNG chunk CRC:", png, kind); bad += 1; break
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
        if kind == b"IEND":
            break
    channels = {2: 3, 6: 4, 0: 1, 4: 2}[ctype]
    if len(zlib.decompress(idat)) != h * (1 + w * channels * depth // 8):
        print("FAIL: PNG pixel data does not decode to its size:", png); bad += 1
print("figures: ok" if not bad else f"figures: {bad} bad")
sys.exit(1 if bad else 0)
PY

# A dataset that lacks a column the plan needs is refused with a message naming it.
mkdir "$tmp/broken"
cp "$fix"/*.csv "$tmp/broken/"
cut -d, -f1-51 "$fix/subjects.csv" >"$tmp/broken/subjects.csv"
if "$IOHEME" report --dataset "$tmp/broken" --out "$tmp/r2" 2>"$tmp/err"; then
    echo "FAIL: a dataset without os_days was accepted"; exit 1
fi
grep -q "os_days" "$tmp/err" || { echo "FAIL: error does not name the column:"; cat "$tmp/err"; exit 1; }
echo "incomplete dataset refused: $(cat "$tmp/err")"
