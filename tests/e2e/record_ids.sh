#!/bin/sh
# Record IDs as REDCap keeps them: spaces, up to 100 characters, encoded in links (see
# record_ids.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/record_ids.mjs"
