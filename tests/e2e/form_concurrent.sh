#!/bin/sh
# Two people saving the same form page: no lost update, conflicts shown (see form_concurrent.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/form_concurrent.mjs"
