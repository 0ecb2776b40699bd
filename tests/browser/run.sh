#!/bin/sh
# Runs one browser test, tests/browser/$1, with node: playwright-core from
# tests/browser/node_modules driving Debian's Chromium (never a downloaded browser). Skips loudly
# only when Chromium or playwright-core is not installed. Screenshots go to $IOHEME_ARTIFACTS
# (default tests/artifacts under the working directory, build/ under ctest); layout.mjs takes
# its page-by-page screenshots only with IOHEME_SCREENSHOTS=1.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x /usr/bin/chromium ]; then
    echo "##########################################################"
    echo "# SKIPPED: /usr/bin/chromium is not installed (apt-get install chromium)"
    echo "##########################################################"
    exit 0
fi
if [ ! -d "$here/browser/node_modules/playwright-core" ]; then
    echo "##########################################################"
    echo "# SKIPPED: playwright-core missing; run 'make deps'"
    echo "##########################################################"
    exit 0
fi
export IOHEME_ARTIFACTS="${IOHEME_ARTIFACTS:-$(pwd)/tests/artifacts}"
exec node "$here/browser/$1"
