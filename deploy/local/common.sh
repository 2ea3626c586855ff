#!/usr/bin/env bash
# Shared settings of the local infrastructure scripts. Every value can be overridden from the environment,
# which is how the test suite runs its own broker and cluster beside the main job's without touching them.
set -euo pipefail
SME_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SME_LOCAL_DIR="${SME_LOCAL_DIR:-$SME_ROOT/.local}"
SME_CACHE_DIR="${SME_CACHE_DIR:-$SME_ROOT/.cache}"
SME_KAFKA_PORT="${SME_KAFKA_PORT:-9092}"
SME_KAFKA_CONTROLLER_PORT="${SME_KAFKA_CONTROLLER_PORT:-9093}"
SME_PG_PORT="${SME_PG_PORT:-5432}"
SME_SERVICES="${SME_SERVICES:-intake screening evaluation contracts payments portal}"
KAFKA_LIBS="$SME_CACHE_DIR/kafka/libs"
KAFKA_DIR="$SME_LOCAL_DIR/kafka"
PG_DIR="$SME_LOCAL_DIR/postgres"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
mkdir -p "$SME_LOCAL_DIR"

log() { printf '[local] %s\n' "$*"; }
die() { printf '[local] error: %s\n' "$*" >&2; exit 1; }

# Waits until "$@" succeeds or the deadline (seconds in $WAIT_SECONDS, default 60) passes.
wait_until() {
  local deadline=$((SECONDS + ${WAIT_SECONDS:-60}))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || return 1
    sleep 0.5
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
