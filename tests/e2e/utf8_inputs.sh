#!/bin/sh
# Text that is not UTF-8 is refused at every door (utf8_inputs.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/utf8_inputs.mjs"
