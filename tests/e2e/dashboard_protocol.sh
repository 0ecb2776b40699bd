#!/bin/sh
# A second study is a new protocol folder: the dashboard follows its study.csv and schedule.csv
# (see dashboard_protocol.mjs).
# backends: sqlite postgresql
set -eu
exec node "$(dirname "$0")/dashboard_protocol.mjs"
