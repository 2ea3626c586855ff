#!/usr/bin/env bash
# Reports the local broker and database cluster; exits non-zero when either is down.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rc=0
"$SME_ROOT/deploy/local/postgres.sh" status || rc=1
"$SME_ROOT/deploy/local/kafka.sh" status || rc=1
exit $rc
