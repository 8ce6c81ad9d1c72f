#!/usr/bin/env bash
# A local Apicurio Registry 3.3.3 (in-memory storage) with its Confluent-compatible API,
# without Docker.
#
#   scripts/registry.sh start     fetch the distribution through Maven (cached), unpack, start, wait
#   scripts/registry.sh stop      stop the registry started from this checkout
#   scripts/registry.sh status    exit 0 when it answers
#   scripts/registry.sh fetch     only fetch and unpack the distribution
#
# The Confluent-compatible API is http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7 (the value
# of TRACEFOLD_SCHEMA_REGISTRY_URL). Storage is Apicurio's default, an in-memory H2 database:
# every start begins empty.
#
# Environment: REGISTRY_PORT (default 18081; the management interface, health and metrics,
# takes REGISTRY_PORT + 1), REGISTRY_HOME_DIR (distribution, logs and pid; default
# .cache/registry under the checkout), REGISTRY_HEAP (default -Xmx256m), REGISTRY_JAVA (the
# java binary; default: the first Java 21+ of JAVA_HOME, PATH and /usr/lib/jvm).
# Needs Java 21+ (Apicurio Registry 3.3 is built for it), and Maven (mvn) on PATH until the
# distribution is cached.
set -euo pipefail

REGISTRY_VERSION=3.3.3
ARTIFACT=io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all
root=$(cd "$(dirname "$0")/.." && pwd)
home=${REGISTRY_HOME_DIR:-$root/.cache/registry}
port=${REGISTRY_PORT:-18081}
management_port=$((port + 1))
dist=$home/apicurio-registry-$REGISTRY_VERSION
pidfile=$home/registry-$port.pid
logfile=$home/registry-$port.log
ready_path=/apis/ccompat/v7/subjects

die() { echo "registry.sh: $*" >&2; exit 1; }

name=registry.sh
# shellcheck source=lib/daemon.sh
. "$(dirname "$0")/lib/daemon.sh"

java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }

# Apicurio Registry 3.3 is built for Java 21 (class file version 65): REGISTRY_JAVA if set,
# else the first Java 21+ of JAVA_HOME, PATH and /usr/lib/jvm.
find_java() {
  if [ -n "${REGISTRY_JAVA:-}" ]; then
    [ "$(java_major "$REGISTRY_JAVA")" -ge 21 ] 2>/dev/null || die "REGISTRY_JAVA=$REGISTRY_JAVA is not Java 21 or newer"
    java_bin=$REGISTRY_JAVA
    return 0
  fi
  local candidate found=""
  for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    found="$found $candidate ($(java_major "$candidate"))"
    if [ "$(java_major "$candidate")" -ge 21 ] 2>/dev/null; then java_bin=$candidate; return 0; fi
  done
  [ -n "$found" ] || die "Java 21 or newer is needed (no java on PATH, in JAVA_HOME or under /usr/lib/jvm)"
  die "Java 21 or newer is needed by Apicurio Registry $REGISTRY_VERSION; found only:$found. Install one (e.g. a Temurin 21 JDK) or set REGISTRY_JAVA"
}

fetch_dist() {
  [ -f "$dist/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven is needed to fetch Apicurio Registry (mvn not found on PATH)"
  echo "registry.sh: fetching Apicurio Registry $REGISTRY_VERSION from Maven Central into $dist"
  mkdir -p "$home"
  local download=$home/download mvnlog=$home/mvn.log
  rm -rf "$download" "$dist"
  # dependency:copy needs no project; the archive lands in (or comes from) ~/.m2 as well.
  if ! mvn -B -Dstyle.color=never dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$download" >"$mvnlog" 2>&1; then
    tail -20 "$mvnlog" >&2
    die "Maven could not fetch $ARTIFACT (full output in $mvnlog)"
  fi
  mkdir -p "$dist"
  tar -xzf "$download/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz" -C "$dist" \
    || die "cannot unpack $download/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz"
  [ -f "$dist/quarkus-run.jar" ] || die "the archive has no quarkus-run.jar at its root"
  rm -rf "$download"
  touch "$dist/.complete"
}

# 0 when GET $ready_path answers 200. Plain bash, so curl is not needed.
answers() {
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n" "$2" >&3
    IFS= read -r status <&3
    case "$status" in "HTTP/1."?" 200"*) exit 0 ;; *) exit 1 ;; esac
  ' _ "$port" "$ready_path" 2>/dev/null
}

# Seconds since a `date +%s%N` reading, with one decimal.
elapsed() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf "%d.%d s" $((ms / 1000)) $((ms % 1000 / 100)); }

start() {
  find_java
  if running; then echo "registry.sh: already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return 0; fi
  if answers; then die "something else already answers on 127.0.0.1:$port"; fi
  fetch_dist
  local started
  started=$(date +%s%N)
  : >"$logfile"
  # Tuned for a quick start and a small footprint, not throughput: C1 only and the serial
  # collector start in ~3.3 s with ~250 MB RSS (defaults: ~4.8 s, ~275 MB); a small
  # connection pool (the defaults, 20 initial and 100 max, suit a server). Access and audit
  # logs only at WARN. OpenTelemetry export is off by default (quarkus.otel.sdk.disabled).
  nohup "$java_bin" ${REGISTRY_HEAP:--Xmx256m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$management_port" \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2 -Dapicurio.datasource.jdbc.max-size=20 \
    -Dquarkus.log.category.\"io.quarkus.http.access-log\".level=WARN \
    -Dquarkus.log.category.\"io.apicurio.registry.logging.audit\".level=WARN \
    -Dapicurio.import.work-dir="$home" -Dapicurio.storage.snapshot.location="$home" \
    -jar "$dist/quarkus-run.jar" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 240); do
    if answers; then
      echo "registry.sh: Apicurio Registry $REGISTRY_VERSION listening on http://127.0.0.1:$port/apis/ccompat/v7 ($(elapsed "$started"))"
      return 0
    fi
    running || { tail -20 "$logfile" >&2; rm -f "$pidfile"; die "the registry exited during start; see $logfile"; }
    sleep 0.25
  done
  die "the registry did not answer GET $ready_path on 127.0.0.1:$port within 60 s; see $logfile"
}


case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers && running && echo "registry.sh: running on http://127.0.0.1:$port/apis/ccompat/v7" ;;
  fetch) find_java; fetch_dist ;;
  *) echo "usage: scripts/registry.sh start|stop|status|fetch" >&2; exit 2 ;;
esac
