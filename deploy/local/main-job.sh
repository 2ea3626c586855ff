#!/usr/bin/env bash
# The main job: installs what is missing, starts Kafka and PostgreSQL, starts the services as separate processes,
# runs a sample program call (30 Gimpo companies) through them and prints what happened, stage by stage.
# Kafka and PostgreSQL stay up afterwards; deploy/local/down.sh stops them and everything the job started.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$SME_ROOT/deploy/local/bootstrap.sh"
"$SME_ROOT/deploy/local/up.sh"
cd "$SME_ROOT"
exec "$SME_ROOT/.venv/bin/python" -m deploy.local.main_job "$@"
