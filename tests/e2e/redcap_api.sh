#!/bin/sh
# REDCap's API (POST /api/) driven with the request bodies REDCap's client libraries send (see
# redcap_api.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/redcap_api.mjs"
