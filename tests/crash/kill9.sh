#!/bin/sh
# kill -9 under write load, API and CLI (see kill9.mjs): the short version run by ctest.
# `make soak` runs the long one (IOHEME_CRASH_RUNS, IOHEME_CRASH_MAX_MS).
set -eu
exec node "$(dirname "$0")/kill9.mjs"
