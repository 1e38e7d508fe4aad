#!/usr/bin/env bash
# A local single-node Apache Kafka 4 (KRaft, share groups on) for tests, benches and tries, from Maven Central.
#   scripts/kafka.sh start|stop|status|classpath
#   scripts/kafka.sh tool <Class|alias> args…   (aliases: topics consumer-groups share-groups producer-perf
#                                                consumer-perf share-consumer-perf console-producer
#                                                console-consumer get-offsets delete-records features)
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_HEAP (512m), KAFKA_CACHE (kafka/.cache),
#      KAFKA_SHARE_VERSION (2: KIP-1191 share dead-letter topics, the most Kafka 4.4 supports; a new log dir only), KAFKA_EXTRA_PROPS (a file appended to the broker's properties, e.g. SASL listeners),
#      KAFKA_ADD_SCRAM (SCRAM users made at format, one a line: SCRAM-SHA-256=[name=alice,password=…]; a new log dir only).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${KAFKA_CACHE:-$root/kafka/.cache}"
lib="$cache/lib"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
heap="${KAFKA_HEAP:-512m}"
data="$cache/broker-$port"
pidfile="$data/pid"

die() { echo "kafka.sh: $*" >&2; exit 1; }

ensure_lib() {
  [ -f "$lib/.complete" ] && return 0
  command -v java >/dev/null || die "java not found: install OpenJDK 17+ (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
  echo "kafka.sh: resolving the Kafka broker and tools from Maven Central into $lib" >&2
  rm -rf "$lib"
  mvn -q -B -f "$root/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >&2
  touch "$lib/.complete"
}

classpath() { ensure_lib; printf '%s/*' "$lib"; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

java_run() {
  java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$root/kafka/log4j2.yaml" -cp "$(classpath)" "$@"
}

tool() {
  [ $# -ge 1 ] || die "usage: kafka.sh tool <Class|alias> args…"
  local cls="$1"; shift
  case "$cls" in
    topics) cls=org.apache.kafka.tools.TopicCommand ;;
    consumer-groups) cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    share-groups) cls=org.apache.kafka.tools.consumer.group.ShareGroupCommand ;;
    producer-perf) cls=org.apache.kafka.tools.ProducerPerformance ;;
    consumer-perf) cls=org.apache.kafka.tools.ConsumerPerformance ;;
    share-consumer-perf) cls=org.apache.kafka.tools.ShareConsumerPerformance ;;
    console-producer) cls=org.apache.kafka.tools.ConsoleProducer ;;
    console-consumer) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    get-offsets) cls=org.apache.kafka.tools.GetOffsetShell ;;
    delete-records) cls=org.apache.kafka.tools.DeleteRecordsCommand ;;
    features) cls=org.apache.kafka.tools.FeatureCommand ;;
  esac
  java_run "$cls" "$@"
}

write_config() {
  mkdir -p "$data"
  cat >"$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
log.dirs=$data/logs
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=4
group.initial.rebalance.delay.ms=0
group.coordinator.rebalance.protocols=classic,consumer,share
auto.create.topics.enable=false
delete.topic.enable=true
PROPS
  if [ -n "${KAFKA_EXTRA_PROPS:-}" ]; then cat "$KAFKA_EXTRA_PROPS" >>"$data/server.properties"; fi
}

start() {
  # two test files starting it at once: the second waits, then finds it answering
  if answers "$port"; then echo "kafka.sh: something already answers on 127.0.0.1:$port; not starting another"; return 0; fi
  mkdir -p "$cache"
  exec 9>"$cache/start-$port.lock"
  flock -w 300 9 || die "another kafka.sh start held $cache/start-$port.lock for 300 s"
  if answers "$port"; then echo "kafka.sh: something already answers on 127.0.0.1:$port; not starting another"; return 0; fi
  ensure_lib
  write_config
  if [ ! -f "$data/logs/meta.properties" ]; then
    local id; id="$(java_run kafka.tools.StorageTool random-uuid | tail -1)"
    # SCRAM credentials go into the first metadata records: a SASL listener can check them from its first login
    local scram=() s
    while IFS= read -r s; do if [ -n "$s" ]; then scram+=(--add-scram "$s"); fi; done <<<"${KAFKA_ADD_SCRAM:-}"
    java_run kafka.tools.StorageTool format --standalone -t "$id" -c "$data/server.properties" \
      --feature share.version="${KAFKA_SHARE_VERSION:-2}" "${scram[@]}" >"$data/format.log" 2>&1 || { cat "$data/format.log" >&2; die "formatting $data/logs failed"; }
  fi
  : >"$data/broker.log"
  setsid nohup java -Xms128m -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$root/kafka/log4j2.yaml" -Dkafka.logs.file="$data/broker.log" \
    -Dkafka.root.level=INFO -Dkafka.appender=FILE -cp "$lib/*" kafka.Kafka "$data/server.properties" \
    >"$data/stdout.log" 2>&1 </dev/null 9>&- &  # the broker must not inherit the start lock
  echo $! >"$pidfile"
  for _ in $(seq 1 240); do
    if grep -q 'Kafka Server started' "$data/broker.log" 2>/dev/null && answers "$port"; then
      echo "kafka.sh: Kafka $(basename "$(ls "$lib"/kafka_2.13-*.jar)" .jar | sed 's/kafka_2.13-//') on 127.0.0.1:$port (pid $(cat "$pidfile"), log $data/broker.log)"
      return 0
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -30 "$data/stdout.log" "$data/broker.log" >&2; die "the broker exited while starting"; }
    sleep 0.5
  done
  die "the broker did not answer on 127.0.0.1:$port within 120 s (log: $data/broker.log)"
}

stop() {
  [ -f "$pidfile" ] || { echo "kafka.sh: no broker started by this script on port $port"; return 0; }
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
  echo "kafka.sh: stopped the broker on port $port"
}

status() {
  if answers "$port"; then echo "kafka.sh: 127.0.0.1:$port answers"; else echo "kafka.sh: nothing on 127.0.0.1:$port"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  classpath) classpath; echo ;;
  tool) shift; tool "$@" ;;
  *) die "usage: kafka.sh start|stop|status|classpath|tool <Class|alias> args…" ;;
esac
