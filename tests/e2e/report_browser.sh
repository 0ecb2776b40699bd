#!/bin/sh
# report.html in headless Chromium (tests/browser/report.mjs): self-contained (no request
# leaves file://), every figure decodes, the primary endpoint matches results.json, prints.
# The screenshot is kept as build/tests/artifacts/report.png. Skips loudly only when Chromium
# or playwright-core is not installed.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x /usr/bin/chromium ]; then
    echo "# SKIPPED: /usr/bin/chromium is not installed (apt-get install chromium)"
    exit 0
fi
if [ ! -d "$here/browser/node_modules/playwright-core" ]; then
    echo "# SKIPPED: playwright-core missing; run 'make deps'"
    exit 0
fi
IOHEME=${IOHEME:-ioheme}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$IOHEME" report --dataset "$here/fixtures/analysis" --out "$tmp/report" >/dev/null
export IOHEME_ARTIFACTS="${IOHEME_ARTIFACTS:-$(pwd)/tests/artifacts}"
node "$here/browser/report.mjs" "$tmp/report"
test -s "$IOHEME_ARTIFACTS/report.png"
