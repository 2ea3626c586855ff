#!/usr/bin/env bash
# Stops the local broker and database cluster; their data stays on disk for the next start.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$SME_ROOT/deploy/local/kafka.sh" stop
"$SME_ROOT/deploy/local/postgres.sh" stop
