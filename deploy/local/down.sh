#!/usr/bin/env bash
# Stops everything the main job started — the services, lookup workers, registry stand-ins, portal, mail server
# and Prometheus (each noted in $SME_LOCAL_DIR/run, deploy/local/started.py) — then the local broker and database
# cluster; their data stays on disk for the next start.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ -x "$SME_ROOT/.venv/bin/python" ]]; then
  (cd "$SME_ROOT" && "$SME_ROOT/.venv/bin/python" -m deploy.local.started stop --dir "$SME_LOCAL_DIR/run")
fi
"$SME_ROOT/deploy/local/kafka.sh" stop
"$SME_ROOT/deploy/local/postgres.sh" stop
