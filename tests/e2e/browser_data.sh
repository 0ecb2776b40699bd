#!/bin/sh
# Browser tests of data that must be right (tests/browser/data.mjs), run as browser.sh runs ui.mjs.
# backends: sqlite postgresql
set -eu
exec sh "$(dirname "$0")/../browser/run.sh" data.mjs
