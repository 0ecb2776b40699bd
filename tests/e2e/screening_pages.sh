#!/bin/sh
# The screening log in pages (see screening_pages.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/screening_pages.mjs"
