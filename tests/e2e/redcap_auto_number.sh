#!/bin/sh
# REDCap's forceAutoNumber (issue 12 §3, "do what REDCap does"): records imported under new
# names, numbered as enrolment numbers (see redcap_auto_number.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/redcap_auto_number.mjs"
