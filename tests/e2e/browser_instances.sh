#!/bin/sh
# Instance references computed in the browser and on the server (tests/browser/instances.mjs).
set -eu
exec sh "$(dirname "$0")/../browser/run.sh" instances.mjs
