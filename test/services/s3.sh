#!/usr/bin/env bash
# S3 API server for integration tests: s3rver from node_modules on a loopback port, data in a temp dir.
#   test/services/s3.sh start   -> prints the endpoint (http://127.0.0.1:PORT); idempotent
#   test/services/s3.sh stop    -> stops it and removes its data
#   test/services/s3.sh endpoint
#   test/services/s3.sh env       -> WEIR_S3_ENDPOINT=... and the credentials, as KEY=VALUE lines
# Credentials: S3RVER / S3RVER. State lives in ${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/s3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="${WEIR_SERVICES_DIR:-${TMPDIR:-/tmp}/weir-services}/s3"
# shellcheck source=lib/process.sh
source "$(dirname "$0")/lib/process.sh"
bin="$here/node_modules/s3rver/bin/s3rver.js"


case "${1:-}" in
  start)
    if running; then echo "http://127.0.0.1:$(cat "$state/port")"; exit 0; fi
    [[ -x "$bin" || -f "$bin" ]] || { echo "s3rver is not installed; run npm install" >&2; exit 1; }
    mkdir -p "$state"
    rm -rf "$state/data" && mkdir -p "$state/data"
    port="$(free_port)"
    # --openssl-legacy-provider: without it s3rver answers ListObjectsV2 pagination with 500
    NODE_OPTIONS=--openssl-legacy-provider nohup node "$bin" -d "$state/data" -a 127.0.0.1 -p "$port" -s \
      --no-vhost-buckets >"$state/log" 2>&1 &
    echo $! >"$state/pid"
    echo "$port" >"$state/port"
    for _ in $(seq 1 100); do
      if node -e "require('net').connect($port,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" 2>/dev/null; then
        echo "http://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.05
    done
    echo "s3rver did not start; see $state/log" >&2
    exit 1
    ;;
  stop)
    stop_server
    ;;
  endpoint)
    running && echo "http://127.0.0.1:$(cat "$state/port")" || { echo "not running" >&2; exit 1; }
    ;;
  env)
    # KEY=VALUE lines for the tests (test/run-all.sh exports them).
    running || { echo "not running" >&2; exit 1; }
    echo "WEIR_S3_ENDPOINT=http://127.0.0.1:$(cat "$state/port")"
    echo "AWS_ACCESS_KEY_ID=S3RVER"
    echo "AWS_SECRET_ACCESS_KEY=S3RVER"
    echo "AWS_REGION=us-east-1"
    ;;
  *)
    echo "usage: $0 start|stop|endpoint|env" >&2
    exit 2
    ;;
esac
