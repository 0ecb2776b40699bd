#!/bin/sh
# The route × role × logged-out authorisation matrix (see http_authz.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/http_authz.mjs"
