#!/bin/sh
# Bedside saves during an import (see import_bedside.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/import_bedside.mjs"
