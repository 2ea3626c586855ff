#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) from the official Maven Central artifacts, on 127.0.0.1.
# Usage: kafka.sh start|stop|kill|restart|status|logs
# Durability: Kafka's own default — the OS flushes the log, durability comes from replication (on a production
# cluster: replication factor 3, min.insync.replicas=2; see README "Broker durability"). SME_KAFKA_FSYNC=1
# fsyncs every append instead (log.flush.interval.messages=1): a single local broker then survives a power cut
# with every acknowledged event, at the price measured in the README.
# SME_KAFKA_SECURITY=sasl_ssl: an authenticated, authorised bus (issue 27). Clients connect over TLS (a local CA in
# $KAFKA_DIR/tls, ca.pem for clients) with SCRAM-SHA-512; the StandardAuthorizer refuses whatever no ACL allows.
# `start` then provisions it: a SCRAM user per service and outside system (passwords in $KAFKA_DIR/secrets, 0600),
# the ACLs generated from the event catalog (sme_runtime.bus_acl) and every topic, as the administrator `admin`.
# `env NAME` prints the SME_KAFKA_* settings of a principal (e.g. `eval "$(kafka.sh env admin)"` for the tools).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
PID_FILE="$KAFKA_DIR/kafka.pid"
LOG_FILE="$KAFKA_DIR/kafka.log"
CONF="$KAFKA_DIR/server.properties"
SECURITY="${SME_KAFKA_SECURITY:-plaintext}"
TLS_DIR="$KAFKA_DIR/tls"
SECRETS="$KAFKA_DIR/secrets"
PYTHON="$SME_ROOT/.venv/bin/python"
[[ "$SECURITY" == plaintext || "$SECURITY" == sasl_ssl ]] || die "SME_KAFKA_SECURITY=$SECURITY: plaintext or sasl_ssl"

resolve_jars() {
  [[ -f "$KAFKA_LIBS/.resolved" ]] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Kafka from Maven Central"
  log "resolving Kafka from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"
  (cd "$SME_ROOT/deploy/local/kafka" && mvn -q -B -Dmaven.repo.local="$SME_CACHE_DIR/m2" \
     dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS")
  touch "$KAFKA_LIBS/.resolved"
}

secret() {  # a principal's password, made once
  local file="$SECRETS/$1.password"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
    (umask 077; openssl rand -hex 24 > "$file")
  fi
  cat "$file"
}

make_tls() {  # a local CA and the broker's certificate for 127.0.0.1 and localhost, made once
  [[ -f "$TLS_DIR/broker.p12" ]] && return 0
  mkdir -p "$TLS_DIR"; chmod 700 "$TLS_DIR"
  local pass; pass=$(secret keystore)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_DIR/ca.key" \
    -out "$TLS_DIR/ca.pem" -days 3650 -subj "/CN=sme-local-bus-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS_DIR/broker.key" \
    -out "$TLS_DIR/broker.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' \
    > "$TLS_DIR/broker.ext"
  openssl x509 -req -in "$TLS_DIR/broker.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" -CAcreateserial \
    -out "$TLS_DIR/broker.pem" -days 3650 -extfile "$TLS_DIR/broker.ext" 2>/dev/null
  openssl pkcs12 -export -in "$TLS_DIR/broker.pem" -inkey "$TLS_DIR/broker.key" -certfile "$TLS_DIR/ca.pem" \
    -name broker -out "$TLS_DIR/broker.p12" -passout "pass:$pass"
  log "TLS: local CA $TLS_DIR/ca.pem, broker certificate for localhost/127.0.0.1"
}

listener_config() {
  if [[ "$SECURITY" == plaintext ]]; then
    cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:$SME_KAFKA_PORT,CONTROLLER://127.0.0.1:$SME_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$SME_KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
auto.create.topics.enable=true
PROPS
    return
  fi
  local admin keystore; admin=$(secret admin); keystore=$(secret keystore)
  # The controller listener takes PLAIN from the administrator alone (KRaft keeps SCRAM users in the metadata
  # the controller serves, so it cannot authenticate its own broker with them); clients use SCRAM over TLS.
  cat <<PROPS
listeners=SASL_SSL://127.0.0.1:$SME_KAFKA_PORT,CONTROLLER://127.0.0.1:$SME_KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$SME_KAFKA_PORT
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin" user_admin="$admin";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/broker.p12
ssl.keystore.password=$keystore
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
auto.create.topics.enable=false
PROPS
}

write_config() {
  mkdir -p "$KAFKA_DIR/data"
  [[ "$SECURITY" == plaintext ]] || make_tls
  (umask 077; cat > "$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$SME_KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
$(listener_config)
log.dirs=$KAFKA_DIR/data
# The platform's partition count (sme_runtime.topics.PARTITIONS) also for a topic a client touches before its
# service has created it (a bench reading offsets, a consumer subscribing first): with 3 such a lookup topic
# was created with 3 and its fourth worker replica had nothing to do (issue 30)
num.partitions=12
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
unclean.leader.election.enable=false
PROPS
)
  if [[ "${SME_KAFKA_FSYNC:-0}" == "1" ]]; then echo "log.flush.interval.messages=1" >> "$CONF"; fi
}

java_cp() { java -Xms256m -Xmx768m -Dlog4j.configuration="file:$SME_ROOT/deploy/local/kafka/log4j.properties" \
  -Dkafka.logs.dir="$KAFKA_DIR" -cp "$KAFKA_LIBS/*" "$@"; }

format_once() {
  if [[ -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local was; was=$(cat "$KAFKA_DIR/data/security" 2>/dev/null || echo plaintext)
    [[ "$was" == "$SECURITY" ]] || die "the broker's data in $KAFKA_DIR/data was made with SME_KAFKA_SECURITY=$was, not $SECURITY: use another SME_LOCAL_DIR (or remove that folder)"
    return 0
  fi
  local cluster_id scram=()
  cluster_id=$(java_cp kafka.tools.StorageTool random-uuid | tail -n 1)
  # the administrator exists from the start: it provisions every other principal (provision)
  [[ "$SECURITY" == plaintext ]] || scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$(secret admin)]")
  log "formatting storage (cluster $cluster_id, $SECURITY)"
  java_cp kafka.tools.StorageTool format -t "$cluster_id" -c "$CONF" "${scram[@]}" >/dev/null
  echo "$SECURITY" > "$KAFKA_DIR/data/security"
}

principal_env() {  # the SME_KAFKA_* settings of principal $1 (sme_runtime.kafka_access.KafkaAccess.from_env)
  [[ "$SECURITY" == sasl_ssl ]] || { echo "export SME_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"; return 0; }
  secret "$1" >/dev/null
  printf 'export SME_KAFKA_SECURITY_PROTOCOL=SASL_SSL SME_KAFKA_USERNAME=%q SME_KAFKA_PASSWORD_FILE=%q SME_KAFKA_SSL_CAFILE=%q\n' \
    "$1" "$SECRETS/$1.password" "$TLS_DIR/ca.pem"
}

provision() {  # SCRAM users, the catalog's ACLs and every topic, as the administrator
  [[ "$SECURITY" == sasl_ssl ]] || die "provision: this broker runs without authentication (SME_KAFKA_SECURITY=sasl_ssl)"
  local name users="$SECRETS/users.tsv" bindings="$KAFKA_DIR/acl-bindings.tsv" props="$SECRETS/admin.properties"
  (umask 077
   : > "$users"
   for name in $(cd "$SME_ROOT" && "$PYTHON" -m deploy.local.bus principals); do
     printf '%s\t%s\n' "$name" "$(secret "$name")" >> "$users"
   done
   cat > "$props" <<PROPS
bootstrap.servers=127.0.0.1:$SME_KAFKA_PORT
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(secret admin)";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
PROPS
  )
  (cd "$SME_ROOT" && "$PYTHON" -m deploy.local.bus bindings) > "$bindings"
  java -Xmx256m -Dlog4j.configuration="file:$SME_ROOT/deploy/local/kafka/log4j.properties" -cp "$KAFKA_LIBS/*" \
    "$SME_ROOT/deploy/local/kafka/Provision.java" "$props" "$users" "$bindings"
  (eval "$(principal_env admin)"; cd "$SME_ROOT" && "$PYTHON" -m deploy.local.bus topics --bootstrap "127.0.0.1:$SME_KAFKA_PORT")
}

start() {
  if pid_alive "$PID_FILE" && port_open "$SME_KAFKA_PORT"; then
    log "kafka already running (pid $(cat "$PID_FILE")) on 127.0.0.1:$SME_KAFKA_PORT"; return 0
  fi
  pid_alive "$PID_FILE" && { log "kafka pid $(cat "$PID_FILE") is not answering: restarting it"; stop; }
  port_open "$SME_KAFKA_PORT" && die "port $SME_KAFKA_PORT is taken by another broker (another checkout's?); stop it or set SME_KAFKA_PORT"
  resolve_jars; write_config; format_once
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC \
    -Dlog4j.configuration="file:$SME_ROOT/deploy/local/kafka/log4j.properties" -Dkafka.logs.dir="$KAFKA_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$CONF" >>"$LOG_FILE" 2>&1 &
  echo $! > "$PID_FILE"
  WAIT_PID=$(cat "$PID_FILE") wait_until up_or_gone || true
  port_open "$SME_KAFKA_PORT" || { tail -n 30 "$LOG_FILE" >&2; grep -m1 -A2 "fatal\|ERROR" "$KAFKA_DIR/server.log" >&2 || true
                                   die "kafka did not open port $SME_KAFKA_PORT"; }
  log "kafka started (pid $(cat "$PID_FILE")) on 127.0.0.1:$SME_KAFKA_PORT ($SECURITY), log $LOG_FILE"
  [[ "$SECURITY" == plaintext ]] || provision
}

up_or_gone() { port_open "$SME_KAFKA_PORT" || ! pid_alive "$PID_FILE"; }  # a broker that exits is not waited for

stop() {
  pid_alive "$PID_FILE" || { log "kafka is not running"; rm -f "$PID_FILE"; return 0; }
  local pid; pid=$(cat "$PID_FILE")
  kill -TERM "$pid"
  WAIT_PID=$pid wait_until bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"; log "kafka stopped"
}

crash() {  # for failure tests: the broker dies without a clean shutdown
  pid_alive "$PID_FILE" && kill -KILL "$(cat "$PID_FILE")"; rm -f "$PID_FILE"; log "kafka killed"
}

status() {
  if pid_alive "$PID_FILE" && port_open "$SME_KAFKA_PORT"; then
    log "kafka: running, pid $(cat "$PID_FILE"), 127.0.0.1:$SME_KAFKA_PORT, log $LOG_FILE"
  else
    log "kafka: stopped (port $SME_KAFKA_PORT, log $LOG_FILE)"; return 3
  fi
}

case "${1:-status}" in
  start) start ;; stop) stop ;; kill) crash ;; restart) stop; start ;; status) status ;;
  resolve) resolve_jars ;; logs) tail -n 50 "$LOG_FILE" ;;
  provision) provision ;; env) principal_env "${2:?kafka.sh env NAME}" ;;
  *) die "usage: kafka.sh start|stop|kill|restart|status|resolve|logs|provision|env NAME" ;;
esac
