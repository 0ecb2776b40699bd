#!/bin/sh
# The logic language in C (ioheme protocol eval) and in the browser (ioheme protocol js +
# src/web/logic.js under node) on one hand-checked table: see logic_js.mjs.
set -eu
: "${IOHEME:?}" "${IOHEME_SRC:?}"
if ! command -v node >/dev/null 2>&1; then
    echo "node not found: cannot run the JavaScript side" >&2
    exit 1
fi
exec node "$IOHEME_SRC/tests/e2e/logic_js.mjs"
