#!/usr/bin/env bash
# librdkafka's mock Kafka cluster (3 brokers on free loopback ports) for the Kafka connector's tests.
# No Apache Kafka broker is installable here; the mock speaks the Kafka protocol (see
# connectors/kafka/README.md for what it does not do).
#   test/services/kafka.sh start  -> prints KAFKA_BROKERS=127.0.0.1:p1,... and KAFKA_MOCK_CONTROL=127.0.0.1:port
#                                    (create <topic> <partitions> | delete <topic>, one per line); idempotent
#   test/services/kafka.sh stop   -> kills it and removes its files
#   test/services/kafka.sh env
# The launcher (test/services/kafka-mock/launcher.c) is linked statically against librdkafka, built from
# the source inside the npm tarball of @confluentinc/kafka-javascript, and cached in
# ${XDG_CACHE_HOME:-$HOME/.cache}/weir/kafka-mock under librdkafka's version and the launcher's hash;
# a missing one is built (npm pack + configure + make, about 80 s; needs gcc, make, python3).
# State lives in ${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/kafka.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/kafka"
# shellcheck source=lib/process.sh
source "$(dirname "$0")/lib/process.sh"
client_version=1.10.1 # @confluentinc/kafka-javascript, which bundles librdkafka 2.15.1
librdkafka_version=2.15.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/weir/kafka-mock"
source_hash="$(sha256sum "$here/kafka-mock/launcher.c" | cut -c1-16)"
# Patch 1: the mock draws each producer id at random from 900k values without checking for one in
# use; a test suite that opens a few hundred transactions (one per checkpoint and subtask) then gets
# two transactional ids with one producer id, and the later one fails with INVALID_PRODUCER_ID_MAPPING
# (seen in CI). The patch hands out ids in sequence. The patch level names the build.
mock_patch=1
launcher="$cache/launcher-$librdkafka_version-p$mock_patch-$source_hash"

build_librdkafka() {
  local dir="$cache/librdkafka-$librdkafka_version-p$mock_patch"
  [[ -f "$dir/src/librdkafka.a" ]] && return 0
  local work
  work="$(mktemp -d "$cache/build.XXXXXX")"
  echo "building librdkafka $librdkafka_version for the Kafka mock (about 80 s; log in $work/build.log)" >&2
  (
    cd "$work"
    npm pack --silent "@confluentinc/kafka-javascript@$client_version" >build.log 2>&1
    tar xzf confluentinc-kafka-javascript-*.tgz package/deps/librdkafka
    local version
    version="$(grep -o '#define RD_KAFKA_VERSION *0x[0-9a-f]*' package/deps/librdkafka/src/rdkafka.h)"
    [[ "$version" == *0x020f01ff ]] || { echo "expected librdkafka $librdkafka_version in the tarball, found $version" >&2; exit 1; }
    cd package/deps/librdkafka
    grep -q 'mpid->pid.id    = rd_jitter(1, 900000) \* 1000;' src/rdkafka_mock_handlers.c ||
      { echo "the mock's producer id line to patch was not found in librdkafka $librdkafka_version" >&2; exit 1; }
    sed -i 's/mpid->pid.id    = rd_jitter(1, 900000) \* 1000;/{ static int64_t weir_next_pid = 0; mpid->pid.id = (weir_next_pid += 1000); }/' src/rdkafka_mock_handlers.c
    ./configure --disable-ssl --disable-gssapi --disable-sasl --disable-zstd --disable-lz4-ext --disable-curl \
      --disable-zlib >>"$work/build.log" 2>&1
    make -C src -j"$(nproc)" librdkafka.a >>"$work/build.log" 2>&1
  ) || { echo "building librdkafka failed; see $work/build.log" >&2; return 1; }
  rm -rf "$dir" && mv "$work/package/deps/librdkafka" "$dir" && rm -rf "$work"
}

build_launcher() {
  [[ -x "$launcher" ]] && return 0
  mkdir -p "$cache"
  exec 9>"$cache/build.lock"
  flock 9 # several test runs may start at once: one builds, the others wait for it
  if [[ ! -x "$launcher" ]]; then
    build_librdkafka
    local src="$cache/librdkafka-$librdkafka_version-p$mock_patch/src"
    gcc -O2 -o "$launcher.tmp" "$here/kafka-mock/launcher.c" -I"$src" "$src/librdkafka.a" -lpthread -lm -ldl -lrt
    mv "$launcher.tmp" "$launcher"
  fi
  exec 9>&-
}


print_env() {
  grep -E '^KAFKA_(BROKERS|MOCK_CONTROL)=' "$state/env"
}

case "${1:-}" in
  start)
    if running; then print_env; exit 0; fi
    build_launcher
    rm -rf "$state" && mkdir -p "$state"
    nohup "$launcher" 3 >"$state/env" 2>"$state/log" </dev/null &
    echo $! >"$state/pid"
    for _ in $(seq 1 200); do
      if grep -q '^KAFKA_MOCK_CONTROL=' "$state/env" 2>/dev/null; then
        print_env
        exit 0
      fi
      running || break
      sleep 0.05
    done
    echo "the Kafka mock did not start; see $state/log" >&2
    exit 1
    ;;
  stop)
    stop_server
    ;;
  env)
    running && print_env || { echo "not running" >&2; exit 1; }
    ;;
  build)
    build_launcher
    echo "$launcher"
    ;;
  *)
    echo "usage: $0 start|stop|env|build" >&2
    exit 2
    ;;
esac
