#!/bin/bash
# CPU time per Nexmark event: `bash bench/cpu-per-event.sh <events> <query>...` (env PS="1 2": the
# parallelisms, STATE=lmdb for LMDB state). Each query runs once with <events> and once with 1000
# events; the difference of their CPU time (user + sys of the whole process, all threads) is the
# cost of the events without the start-up. On a shared machine CPU time says more than wall time,
# which the other processes stretch.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: bash bench/cpu-per-event.sh <events> <query>..." >&2; exit 2; fi
cd "$(dirname "$0")/.."
events=$1; shift
cpu() { # prints "user+sys wall" of one run (bash's own `time`: no /usr/bin/time needed)
  local TIMEFORMAT='%U %S %R' out
  out=$( { time node --import tsx bench/nexmark.ts --child --queries "$1" --events "$2" --runs 1 --parallelism "$3" --state "${STATE:-heap}" > /dev/null 2>&1 ; } 2>&1 ) || { echo "run of $1 with $2 events at p$3 failed" >&2; exit 1; }
  awk '{ printf "%.3f %.3f", $1 + $2, $3 }' <<< "$out"
}
for q in "$@"; do
  for p in ${PS:-1 2}; do
    r0=$(cpu "$q" 1000 "$p")
    r1=$(cpu "$q" "$events" "$p")
    read -r c0 w0 <<< "$r0"
    read -r c1 w1 <<< "$r1"
    awk -v q="$q" -v p="$p" -v n="$events" -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" \
      'BEGIN { c = c1 - c0; printf "%s p%s: cpu %.2f s (%.2f us/event), wall %.2f s\n", q, p, c, c * 1e6 / n, w1 - w0 }'
  done
done
