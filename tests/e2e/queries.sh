#!/bin/sh
# Queries through the JSON API and the CLI (see queries.mjs).
set -eu
exec node "$(dirname "$0")/queries.mjs"
