#!/bin/sh
# REDCap's API answers 503 with Retry-After while another writer holds the database (see
# redcap_busy.mjs). SQLite only: the held write lock is SQLite's.
set -eu
exec node "$(dirname "$0")/redcap_busy.mjs"
