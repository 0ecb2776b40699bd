#!/bin/sh
# Form and record locks on every write path, their pages and audit rows (see form_lock.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/form_lock.mjs"
