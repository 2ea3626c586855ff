#!/usr/bin/env bash
# Runs once in the postgres container: one database and one login role per service, as deploy/local/postgres.sh does.
set -euo pipefail
for svc in intake screening evaluation contracts payments portal; do
  password_var="${svc^^}_DB_PASSWORD"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE $svc LOGIN PASSWORD '${!password_var:-$svc}';
CREATE DATABASE $svc OWNER $svc ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE $svc FROM PUBLIC;
SQL
done
