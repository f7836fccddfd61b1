#!/usr/bin/env bash
# `npm test`: starts the servers the integration tests need (each test/services/<name>.sh has
# `start`, `stop` and `env`, which prints KEY=VALUE lines that are exported for the tests), runs
# every test under test/, prints a closing "N passed, N failed" line, and stops the servers again,
# whatever happened.
set -uo pipefail
cd "$(dirname "$0")/.."

# The servers come from Debian packages; install what is missing (a no-op when all are there).
if ! bash scripts/install-system-packages.sh; then
  echo "could not install the Debian packages the integration tests need (scripts/install-system-packages.sh); run it as root, then npm test again" >&2
  exit 1
fi

own_services_dir=""
if [ -z "${WEIR_SERVICES_DIR:-}" ]; then
  WEIR_SERVICES_DIR=$(mktemp -d /tmp/weir-services.XXXXXX)
  own_services_dir=$WEIR_SERVICES_DIR
fi
export WEIR_SERVICES_DIR
started=()
cleanup() {
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do bash "test/services/${started[$i]}.sh" stop >/dev/null 2>&1 || true; done
  [ -n "$own_services_dir" ] && rm -rf "$own_services_dir"
}
trap cleanup EXIT

for f in test/services/*.sh; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .sh)
  echo "starting $name..."
  if ! bash "$f" start >/dev/null || ! out=$(bash "$f" env); then
    echo "could not start the $name service ($f start failed); see its output above" >&2
    exit 1
  fi
  started+=("$name")
  while IFS= read -r line; do
    if [[ "$line" =~ ^[A-Z_][A-Z0-9_]*= ]]; then export "$line"; echo "  $line"; fi
  done <<<"$out"
done

report="$WEIR_SERVICES_DIR/vitest-report.json"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  // name what did not pass, so a CI log that keeps only its tail still says where to look
  // (a test left "pending" in a file that skips nothing was running when its test process died)
  for (const f of r.testResults) {
    const notPassed = f.assertionResults.filter((a) => a.status !== "passed");
    if (f.status === "passed" && notPassed.length === 0) continue;
    console.log(`not passed: ${f.name.slice(process.cwd().length + 1)}${f.message ? ` (${f.message.split("\n")[0]})` : ""}`);
    for (const a of notPassed) console.log(`  ${a.status === "pending" ? "pending (did not finish: crashed?)" : a.status}: ${a.fullName}`);
  }
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);
' "$report" 2>/dev/null || echo "0 passed, 1 failed"
exit $status
