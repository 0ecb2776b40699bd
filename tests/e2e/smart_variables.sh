#!/bin/sh
# REDCap smart variables in branching logic, calcs and the form page (see smart_variables.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/smart_variables.mjs"
