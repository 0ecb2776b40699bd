#!/bin/sh
# The password policy and role changes through the CLI, API and sign-in page (see password_policy.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/password_policy.mjs"
