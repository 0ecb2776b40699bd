#!/bin/sh
# API tests of `ioheme serve` (see http_api.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/http_api.mjs"
