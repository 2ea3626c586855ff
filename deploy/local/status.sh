#!/usr/bin/env bash
# Reports the local broker and database cluster, then every service (ready or not, and its consumer lag);
# exits non-zero when the broker or the database is down, or a running service is not ready.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rc=0
"$SME_ROOT/deploy/local/postgres.sh" status || rc=1
"$SME_ROOT/deploy/local/kafka.sh" status || rc=1
(cd "$SME_ROOT" && "$SME_ROOT/.venv/bin/python" -m deploy.local.status) || rc=1
exit $rc
