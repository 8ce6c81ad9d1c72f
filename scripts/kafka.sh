#!/usr/bin/env bash
# A local single-node Apache Kafka 3.9.1 broker in KRaft mode, without Docker.
#
#   scripts/kafka.sh start     fetch the jars through Maven (cached), format storage, start, wait
#   scripts/kafka.sh stop      stop the broker started from this checkout
#   scripts/kafka.sh status    exit 0 when it answers
#   scripts/kafka.sh kill      SIGKILL the broker (a crash, for fault-injection tests)
#
# Environment: KAFKA_PORT (default 19092), KAFKA_HOME_DIR (state, logs and jars; default
# .cache/kafka under the checkout), KAFKA_HEAP (default -Xmx512m).
#
# One node of a cluster of combined broker+controller nodes: start each with the same
# KAFKA_QUORUM_VOTERS (id@127.0.0.1:controller-port,...) and KAFKA_CLUSTER_ID (22-character
# base64 uuid), its own KAFKA_NODE_ID and KAFKA_CONTROLLER_PORT (default KAFKA_PORT + 1),
# and KAFKA_REPLICATION (default 1: the replication factor of internal and new topics;
# min.insync.replicas is one less, at least 1). Start the nodes together: each waits for a
# quorum.
# Needs Java 17+ and Maven (mvn) on PATH.
set -euo pipefail

KAFKA_VERSION=3.9.1
SLF4J_VERSION=1.7.36
RELOAD4J_VERSION=1.2.25
root=$(cd "$(dirname "$0")/.." && pwd)
home=${KAFKA_HOME_DIR:-$root/.cache/kafka}
port=${KAFKA_PORT:-19092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
node_id=${KAFKA_NODE_ID:-1}
voters=${KAFKA_QUORUM_VOTERS:-$node_id@127.0.0.1:$controller_port}
replication=${KAFKA_REPLICATION:-1}
min_isr=$((replication > 1 ? replication - 1 : 1))
libs=$home/libs-$KAFKA_VERSION
data=$home/data-$port
pidfile=$home/kafka-$port.pid
logfile=$home/kafka-$port.log

die() { echo "kafka.sh: $*" >&2; exit 1; }

name=kafka.sh
# shellcheck source=lib/daemon.sh
. "$(dirname "$0")/lib/daemon.sh"

need_tools() {
  command -v java >/dev/null || die "Java 17 or newer is needed (java not found on PATH)"
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  [ "${major:-0}" -ge 17 ] || die "Java 17 or newer is needed (found Java ${major:-unknown})"
  command -v mvn >/dev/null || die "Maven is needed to fetch the Kafka jars (mvn not found on PATH)"
}

fetch_jars() {
  [ -f "$libs/.complete" ] && return 0
  echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION from Maven Central into $libs"
  mkdir -p "$home"
  local pom=$home/pom-$KAFKA_VERSION.xml
  cat >"$pom" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tracefold</groupId><artifactId>local-kafka</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$RELOAD4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$libs"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime \
    || die "Maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
  touch "$libs/.complete"
}

write_config() {
  mkdir -p "$data"
  cat >"$home/server-$port.properties" <<PROPS
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=3
default.replication.factor=$replication
min.insync.replicas=$min_isr
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=8388608
log.cleaner.threads=1
log.segment.bytes=67108864
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
PROPS
  cat >"$home/log4j-$port.properties" <<LOG4J
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$logfile
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
LOG4J
}

kafka_java() {
  java ${KAFKA_HEAP:--Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$home/log4j-$port.properties" -cp "$libs/*" "$@"
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  need_tools
  if running; then echo "kafka.sh: already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return 0; fi
  fetch_jars
  write_config
  if [ ! -f "$data/meta.properties" ]; then
    kafka_java kafka.tools.StorageTool format -t "${KAFKA_CLUSTER_ID:-$(kafka_java kafka.tools.StorageTool random-uuid)}" \
      -c "$home/server-$port.properties" >/dev/null
  fi
  # The log outlives restarts: only what this start writes says whether it has started.
  local from
  from=$( (wc -l <"$logfile") 2>/dev/null || echo 0)
  nohup java ${KAFKA_HEAP:--Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$home/log4j-$port.properties" -cp "$libs/*" \
    kafka.Kafka "$home/server-$port.properties" >>"$logfile.out" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if answers && tail -n +"$((from + 1))" "$logfile" 2>/dev/null | grep -q "Transition from STARTING to STARTED"; then
      echo "kafka.sh: Kafka $KAFKA_VERSION listening on 127.0.0.1:$port"
      return 0
    fi
    running || die "the broker exited during start; see $logfile and $logfile.out"
    sleep 0.5
  done
  die "the broker did not answer on 127.0.0.1:$port within 60 s; see $logfile"
}


case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) crash ;;
  status) answers && running && echo "kafka.sh: running on 127.0.0.1:$port" ;;
  fetch) need_tools; fetch_jars ;;
  *) echo "usage: scripts/kafka.sh start|stop|status|fetch|kill" >&2; exit 2 ;;
esac
