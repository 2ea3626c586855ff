#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine, idempotently: system packages (PostgreSQL,
# Java + Maven, Prometheus), the Python virtualenv with the services installed, and Kafka's jars from Maven Central.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
VENV="$SME_ROOT/.venv"
STAMP="$VENV/.bootstrap-$(cat "$SME_ROOT"/requirements*.txt "$SME_ROOT"/shared/*/pyproject.toml "$SME_ROOT"/services/*/pyproject.toml | sha256sum | cut -c1-16)"

missing=()
[[ -x "$PG_BIN/initdb" ]] || missing+=(postgresql)
command -v java >/dev/null || missing+=(default-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || die "missing system packages: ${missing[*]} (run as root, or apt-get install them)"
  log "installing from Debian's packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -f "$STAMP" ]]; then
  log "creating Python environment in $VENV"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  # Exactly the locked versions, each file checked against its hash; then our packages without resolving
  # anything again, and a check that the set is consistent.
  "$VENV/bin/pip" install -q --require-hashes -r "$SME_ROOT/requirements.txt" -r "$SME_ROOT/requirements-dev.txt"
  "$VENV/bin/pip" install -q --no-deps -e "$SME_ROOT/shared/schemas" -e "$SME_ROOT/shared/programs" \
    -e "$SME_ROOT/shared/runtime"
  for svc in "$SME_ROOT"/services/*/pyproject.toml; do "$VENV/bin/pip" install -q --no-deps -e "$(dirname "$svc")"; done
  "$VENV/bin/pip" check >/dev/null || die "the locked packages do not fit together: $("$VENV/bin/pip" check)"
  rm -f "$VENV"/.bootstrap-*; touch "$STAMP"
fi
# The official AsyncAPI parser (npm), locked: tests/unit/test_asyncapi.py validates the exported documents with it
ASYNCAPI_SRC="$SME_ROOT/deploy/local/asyncapi" ASYNCAPI_DIR="$SME_CACHE_DIR/asyncapi"
ASYNCAPI_STAMP="$ASYNCAPI_DIR/.stamp-$(cat "$ASYNCAPI_SRC"/package*.json "$ASYNCAPI_SRC"/validate.mjs | sha256sum | cut -c1-16)"
if [[ ! -f "$ASYNCAPI_STAMP" ]]; then
  log "installing the AsyncAPI parser (npm ci) into $ASYNCAPI_DIR"
  rm -rf "$ASYNCAPI_DIR"; mkdir -p "$ASYNCAPI_DIR"
  cp "$ASYNCAPI_SRC"/package.json "$ASYNCAPI_SRC"/package-lock.json "$ASYNCAPI_SRC"/validate.mjs "$ASYNCAPI_DIR"/
  (cd "$ASYNCAPI_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
  touch "$ASYNCAPI_STAMP"
fi
"$SME_ROOT/deploy/local/kafka.sh" resolve
log "bootstrap done: $("$VENV/bin/python" --version), $(java -version 2>&1 | head -n 1), Kafka jars in $KAFKA_LIBS"
