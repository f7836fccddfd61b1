#!/usr/bin/env bash
# ClickHouse for integration tests (the ClickHouse sink): clickhouse-server 18.16 from the Debian
# package, with its own config, data directory and free loopback ports (HTTP and native).
#   test/services/clickhouse.sh start  -> prints WEIR_CLICKHOUSE_URL=http://127.0.0.1:PORT (and the
#                                         ports); idempotent; starts in about 0.2 s
#   test/services/clickhouse.sh stop   -> shuts it down and removes its files
#   test/services/clickhouse.sh env
# Install the server with scripts/install-system-packages.sh. State lives in
# ${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/clickhouse.
set -euo pipefail
state="${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/clickhouse"
# shellcheck source=lib/process.sh
source "$(dirname "$0")/lib/process.sh"


print_env() {
  echo "WEIR_CLICKHOUSE_URL=http://127.0.0.1:$(cat "$state/http_port")"
  echo "WEIR_CLICKHOUSE_HTTP_PORT=$(cat "$state/http_port")"
  echo "WEIR_CLICKHOUSE_TCP_PORT=$(cat "$state/tcp_port")"
}

case "${1:-}" in
  start)
    if running; then print_env; exit 0; fi
    server=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
    [[ -x "$server" ]] || { echo "clickhouse-server is not installed; run scripts/install-system-packages.sh" >&2; exit 1; }
    rm -rf "$state" && mkdir -p "$state/data" "$state/tmp" "$state/user_files" "$state/format_schemas"
    http_port=$(free_port)
    tcp_port=$(free_port)
    while [[ "$tcp_port" == "$http_port" ]]; do tcp_port=$(free_port); done
    echo "$http_port" >"$state/http_port"
    echo "$tcp_port" >"$state/tcp_port"
    cat >"$state/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$state/server.log</log><errorlog>$state/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http_port</http_port>
  <tcp_port>$tcp_port</tcp_port>
  <path>$state/data/</path>
  <tmp_path>$state/tmp/</tmp_path>
  <user_files_path>$state/user_files/</user_files_path>
  <format_schema_path>$state/format_schemas/</format_schema_path>
  <users_config>$state/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <timezone>UTC</timezone>
</yandex>
XML
    cat >"$state/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
    nohup "$server" --config-file="$state/config.xml" --pid-file="$state/server.pid" >"$state/stdout.log" 2>&1 &
    echo $! >"$state/pid"
    for _ in $(seq 1 400); do
      if clickhouse-client --host 127.0.0.1 --port "$tcp_port" --query "SELECT 1" >/dev/null 2>&1; then
        print_env
        exit 0
      fi
      running || break
      sleep 0.025
    done
    echo "clickhouse-server did not start; see $state/error.log and $state/stdout.log" >&2
    exit 1
    ;;
  stop)
    stop_server
    ;;
  env | url)
    running && print_env || { echo "not running" >&2; exit 1; }
    ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
