#!/bin/sh
# Electronic signatures through the JSON API, the casebook page and the CLI (see signatures.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/signatures.mjs"
