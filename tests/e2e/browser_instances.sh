#!/bin/sh
# Instance references computed in the browser and on the server (tests/browser/instances.mjs).
# backends: sqlite postgresql
set -eu
exec sh "$(dirname "$0")/../browser/run.sh" instances.mjs
