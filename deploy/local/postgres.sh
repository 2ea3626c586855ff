#!/usr/bin/env bash
# The project's own PostgreSQL cluster (Debian's packages) in $SME_LOCAL_DIR/postgres, one database and one
# login role per service, so no service can read another's tables.
# Usage: postgres.sh start|stop|kill|restart|status|psql SERVICE
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DATA="$PG_DIR/data"
SOCK="$PG_DIR/run"
LOG_FILE="$PG_DIR/postgres.log"
# PostgreSQL refuses to run as root; a root shell runs it as the 'postgres' system user instead.
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

ensure_installed() {
  [[ -x "$PG_BIN/initdb" ]] && return 0
  log "installing PostgreSQL from Debian's packages"
  [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed; run as root or: apt-get install postgresql"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
}

init_once() {
  [[ -f "$DATA/PG_VERSION" ]] && return 0
  mkdir -p "$DATA" "$SOCK"
  [[ $(id -u) -eq 0 ]] && chown -R postgres:postgres "$PG_DIR"
  chmod 700 "$DATA"
  log "initialising cluster in $DATA"
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
     -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $SME_PG_PORT
unix_socket_directories = '$SOCK'
max_connections = 300
timezone = 'UTC'
fsync = on
CONF
}

running() { as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
sql() { as_pg "$PG_BIN/psql" -h "$SOCK" -p "$SME_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

ensure_databases() {
  local svc
  for svc in $SME_SERVICES; do
    # Local credentials are the service's name; deployments set their own (see docker-compose.yml, deploy/).
    if [[ -z $(sql -c "select 1 from pg_roles where rolname='$svc'") ]]; then
      sql -c "create role $svc login password '$svc'"
    fi
    if [[ -z $(sql -c "select 1 from pg_database where datname='$svc'") ]]; then
      sql -c "create database $svc owner $svc encoding 'UTF8' template template0"
      sql -c "revoke all on database $svc from public"
    fi
  done
}

start() {
  ensure_installed; init_once
  if running; then
    log "postgres already running on 127.0.0.1:$SME_PG_PORT"
  else
    port_open "$SME_PG_PORT" && die "port $SME_PG_PORT is taken by another server (another checkout's cluster?); stop it or set SME_PG_PORT"
    # pg_ctl returns as soon as the server accepts connections and fails at once when it exits; the long limit
    # is for a loaded machine's slow crash recovery, not a wait anyone sits through (issue 28)
    # pg_stat_statements: bench.pipeline counts statements and round trips per application (issue 28)
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG_FILE" -w -t 600 -o "-c shared_preload_libraries=pg_stat_statements" start >/dev/null || { tail -n 20 "$LOG_FILE" >&2; die "postgres did not start"; }
    log "postgres started on 127.0.0.1:$SME_PG_PORT, log $LOG_FILE"
  fi
  ensure_databases
  log "databases: $SME_SERVICES (user = password = service name)"
}

stop() {
  running || { log "postgres is not running"; return 0; }
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; log "postgres stopped"
}

crash() { running && as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null; log "postgres stopped (immediate)"; }

status() {
  if running; then log "postgres: running, 127.0.0.1:$SME_PG_PORT, data $DATA, log $LOG_FILE"
  else log "postgres: stopped (port $SME_PG_PORT, data $DATA)"; return 3; fi
}

case "${1:-status}" in
  start) start ;; stop) stop ;; kill) crash ;; restart) stop; start ;; status) status ;;
  psql) shift; svc="${1:?service}"; shift; PGPASSWORD="$svc" exec psql -h 127.0.0.1 -p "$SME_PG_PORT" -U "$svc" "$svc" "$@" ;;
  *) die "usage: postgres.sh start|stop|kill|restart|status|psql SERVICE" ;;
esac
