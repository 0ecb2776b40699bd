#!/bin/sh
# Database freeze and lock through the JSON API and the /study page (see db_web.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/db_web.mjs"
