#!/bin/sh
# Browser test of the site time zone and the IO stopwatch across tablets
# (tests/browser/clock.mjs), through browser.sh's checks for Chromium and playwright-core.
# backends: sqlite postgresql
set -eu
exec sh "$(dirname "$0")/../browser/run.sh" clock.mjs
