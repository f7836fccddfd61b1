#!/usr/bin/env bash
# MariaDB for integration tests (lookup joins, CDC): mariadbd from the Debian package, with its own
# data directory, socket and a free loopback port; binlog in ROW format with full images (for CDC).
#   test/services/mysql.sh start   -> prints WEIR_MYSQL_URL=mysql://root@127.0.0.1:PORT/weir (and the
#                                     socket and port); idempotent
#   test/services/mysql.sh stop    -> shuts it down and removes its files
#   test/services/mysql.sh url
# Install the server with scripts/install-system-packages.sh. State lives in
# ${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/mysql.
set -euo pipefail
state="${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/mysql"
# shellcheck source=lib/process.sh
source "$(dirname "$0")/lib/process.sh"


print_env() {
  echo "WEIR_MYSQL_URL=mysql://root@127.0.0.1:$(cat "$state/port")/weir"
  echo "WEIR_MYSQL_PORT=$(cat "$state/port")"
  echo "WEIR_MYSQL_SOCKET=$state/sock"
}

case "${1:-}" in
  start)
    if running; then print_env; exit 0; fi
    command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || { echo "mariadbd is not installed; run scripts/install-system-packages.sh" >&2; exit 1; }
    mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    rm -rf "$state" && mkdir -p "$state/data"
    mariadb-install-db --no-defaults --user=root --datadir="$state/data" --auth-root-authentication-method=normal \
      --skip-test-db >"$state/install.log" 2>&1 || { echo "mariadb-install-db failed; see $state/install.log" >&2; exit 1; }
    port="$(free_port)"
    echo "$port" >"$state/port"
    nohup "$mariadbd" --no-defaults --user=root --datadir="$state/data" --socket="$state/sock" --port="$port" \
      --bind-address=127.0.0.1 --pid-file="$state/mariadbd.pid" --log-error="$state/log" \
      --log-bin="$state/data/binlog" --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL --server-id=1 \
      --skip-name-resolve >/dev/null 2>&1 &
    echo $! >"$state/pid"
    for _ in $(seq 1 200); do
      if mariadb --no-defaults --socket="$state/sock" -uroot -e 'CREATE DATABASE IF NOT EXISTS weir' 2>/dev/null; then
        print_env
        exit 0
      fi
      running || break
      sleep 0.05
    done
    echo "mariadbd did not start; see $state/log" >&2
    exit 1
    ;;
  stop)
    stop_server
    ;;
  url | env)
    running && print_env || { echo "not running" >&2; exit 1; }
    ;;
  *)
    echo "usage: $0 start|stop|url|env" >&2
    exit 2
    ;;
esac
