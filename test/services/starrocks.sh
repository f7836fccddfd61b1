#!/usr/bin/env bash
# Loopback StarRocks test server (test/services/starrocks/server.ts): StarRocks' Stream Load, Stream
# Load transaction interface and get_load_state HTTP API on a free FE port (307 to a BE port), with
# test-only endpoints under /__test/ (tables, label log, failure injection). Not StarRocks: see
# connectors/starrocks/README.md for what it implements and what it does not.
#   test/services/starrocks.sh start   -> starts it (idempotent) and prints its env
#   test/services/starrocks.sh stop    -> stops it and removes its state
#   test/services/starrocks.sh env     -> WEIR_STARROCKS_FE_URL, WEIR_STARROCKS_USER, WEIR_STARROCKS_PASSWORD
# State lives in ${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/starrocks.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/starrocks"
# shellcheck source=lib/process.sh
source "$(dirname "$0")/lib/process.sh"
password="weir-test"


print_env() {
  echo "WEIR_STARROCKS_FE_URL=http://127.0.0.1:$(node -e "console.log(JSON.parse(require('fs').readFileSync('$state/ports.json','utf8')).fePort)")"
  echo "WEIR_STARROCKS_USER=root"
  echo "WEIR_STARROCKS_PASSWORD=$password"
}

case "${1:-}" in
  start)
    if running; then print_env; exit 0; fi
    rm -rf "$state" && mkdir -p "$state"
    # from the repository, where --import tsx resolves
    (cd "$here" && exec nohup node --import tsx "$here/test/services/starrocks/server.ts" --state-dir "$state" --user root --password "$password" \
      >"$state/out" 2>"$state/log") &
    echo $! >"$state/pid"
    for _ in $(seq 1 200); do
      if [[ -s "$state/out" ]]; then print_env; exit 0; fi
      running || break
      sleep 0.05
    done
    echo "the StarRocks test server did not start; see $state/log" >&2
    exit 1
    ;;
  stop)
    stop_server
    ;;
  env)
    running && print_env || { echo "not running" >&2; exit 1; }
    ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
