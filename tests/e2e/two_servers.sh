#!/bin/sh
# Two servers on one study: sessions valid on both, revocation immediate (see two_servers.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/two_servers.mjs"
