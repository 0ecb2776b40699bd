#!/bin/sh
# Browser tests (tests/browser/ui.mjs) through tests/browser/run.sh: Debian's Chromium driven by
# playwright-core; skips loudly only when either is not installed.
# backends: sqlite postgresql
exec sh "$(dirname "$0")/../browser/run.sh" ui.mjs
