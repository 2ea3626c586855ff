#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) from the official Maven Central artifacts, on 127.0.0.1.
# Usage: kafka.sh start|stop|kill|restart|status|logs
# Durability: Kafka's own default — the OS flushes the log, durability comes from replication (on a production
# cluster: replication factor 3, min.insync.replicas=2; see README "Broker durability"). SME_KAFKA_FSYNC=1
# fsyncs every append instead (log.flush.interval.messages=1): a single local broker then survives a power cut
# with every acknowledged event, at the price measured in the README.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
PID_FILE="$KAFKA_DIR/kafka.pid"
LOG_FILE="$KAFKA_DIR/kafka.log"
CONF="$KAFKA_DIR/server.properties"

resolve_jars() {
  [[ -f "$KAFKA_LIBS/.resolved" ]] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Kafka from Maven Central"
  log "resolving Kafka from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"
  (cd "$SME_ROOT/deploy/local/kafka" && mvn -q -B -Dmaven.repo.local="$SME_CACHE_DIR/m2" \
     dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS")
  touch "$KAFKA_LIBS/.resolved"
}

write_config() {
  mkdir -p "$KAFKA_DIR/data"
  cat > "$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$SME_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$SME_KAFKA_PORT,CONTROLLER://127.0.0.1:$SME_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$SME_KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
unclean.leader.election.enable=false
PROPS
  if [[ "${SME_KAFKA_FSYNC:-0}" == "1" ]]; then echo "log.flush.interval.messages=1" >> "$CONF"; fi
}

java_cp() { java -Xms256m -Xmx768m -Dlog4j.configuration="file:$SME_ROOT/deploy/local/kafka/log4j.properties" \
  -Dkafka.logs.dir="$KAFKA_DIR" -cp "$KAFKA_LIBS/*" "$@"; }

format_once() {
  [[ -f "$KAFKA_DIR/data/meta.properties" ]] && return 0
  local cluster_id
  cluster_id=$(java_cp kafka.tools.StorageTool random-uuid | tail -n 1)
  log "formatting storage (cluster $cluster_id)"
  java_cp kafka.tools.StorageTool format -t "$cluster_id" -c "$CONF" >/dev/null
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
  WAIT_SECONDS=90 wait_until port_open "$SME_KAFKA_PORT" || { tail -n 30 "$LOG_FILE" >&2; die "kafka did not open port $SME_KAFKA_PORT"; }
  log "kafka started (pid $(cat "$PID_FILE")) on 127.0.0.1:$SME_KAFKA_PORT, log $LOG_FILE"
}

stop() {
  pid_alive "$PID_FILE" || { log "kafka is not running"; rm -f "$PID_FILE"; return 0; }
  local pid; pid=$(cat "$PID_FILE")
  kill -TERM "$pid"
  WAIT_SECONDS=60 wait_until bash -c "! kill -0 $pid" || kill -KILL "$pid"
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
  *) die "usage: kafka.sh start|stop|kill|restart|status|resolve|logs" ;;
esac
