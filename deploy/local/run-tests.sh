#!/usr/bin/env bash
# The test command: installs what is missing, then runs every tier (unit, integration, e2e). The integration and
# e2e tiers start their own Kafka and PostgreSQL on ports 19092/15432 in .local-test/ and stop them at the end.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$SME_ROOT/deploy/local/bootstrap.sh"
cd "$SME_ROOT"
"$SME_ROOT/.venv/bin/python" -m sme_schemas.export --check
exec "$SME_ROOT/.venv/bin/python" -m pytest -p no:cacheprovider "$@"
