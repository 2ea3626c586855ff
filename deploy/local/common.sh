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

# CPU time (clock ticks, user + system) process $1 has used; nothing once it is gone.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || true; }

# Waits until "$@" succeeds, for as long as process $WAIT_PID (when set) keeps working: a loaded machine makes a
# broker start in minutes, not seconds (issue 28). Gives up once it used no CPU for $SME_QUIET_SECONDS (default
# 60; without $WAIT_PID: that long in all), or at once when it is gone.
wait_until() {
  local quiet=${SME_QUIET_SECONDS:-60} last="" moved=$SECONDS ticks
  quiet=${quiet%.*}
  until "$@" >/dev/null 2>&1; do
    if [[ -n "${WAIT_PID:-}" ]]; then
      ticks=$(cpu_ticks "$WAIT_PID")
      [[ -n "$ticks" ]] || return 1
      [[ "$ticks" == "$last" ]] || { last=$ticks; moved=$SECONDS; }
    fi
    (( SECONDS - moved < quiet )) || return 1
    sleep 0.5
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
