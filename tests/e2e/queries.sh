#!/bin/sh
# Queries through the JSON API and the CLI (see queries.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/queries.mjs"
