#!/bin/sh
# The UI fits the bedside (tests/browser/layout.mjs through tests/browser/run.sh): every page at
# 1024×768 and 390×844 without sideways scrolling, touch-sized controls, labels not codes, times
# without ISO "T…Z". Skips loudly only when Chromium or playwright-core is not installed.
# SQLite only: the layout is the pages' HTML and CSS, the same whichever backend holds the data
# (browser, browser_data, browser_clock and browser_instances run on PostgreSQL too).
exec sh "$(dirname "$0")/../browser/run.sh" layout.mjs
