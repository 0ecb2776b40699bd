#!/bin/sh
# Source data verification through the JSON API, the pages and the CLI (see sdv.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/sdv.mjs"
