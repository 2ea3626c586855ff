#!/usr/bin/env bash
# Starts (or repairs) the local broker and database cluster; safe to run any number of times.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$SME_ROOT/deploy/local/postgres.sh" start
"$SME_ROOT/deploy/local/kafka.sh" start
