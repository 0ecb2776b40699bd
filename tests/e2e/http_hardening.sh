#!/bin/sh
# The hardening attacks kept as tests against a real server (see http_hardening.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/http_hardening.mjs"
