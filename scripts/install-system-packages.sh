#!/usr/bin/env bash
# Debian packages the integration tests need (servers run from the project's own scripts under
# test/services). Idempotent: installs only what is missing.
set -euo pipefail
packages=()
need() { dpkg -s "$1" >/dev/null 2>&1 || packages+=("$1"); }
# (filled in as connectors land: mariadb-server, clickhouse-server, ...)
# MySQL lookup joins and CDC: test/services/mysql.sh runs mariadbd from these.
need mariadb-server
need mariadb-client
# Kafka mock (test/services/kafka.sh): its launcher is built from librdkafka's source on first use.
need gcc
need make
need libc6-dev
# ClickHouse sink: test/services/clickhouse.sh runs clickhouse-server from these.
need clickhouse-server
need clickhouse-client
# The cluster dashboard test drives Debian's chromium through playwright-core (no browser download).
need chromium
if [ ${#packages[@]} -gt 0 ]; then
  echo "installing Debian packages: ${packages[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
