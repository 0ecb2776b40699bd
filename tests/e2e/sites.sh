#!/bin/sh
# Sites of a multi-centre study on every door (see sites.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/sites.mjs"
