#!/bin/sh
# bench/runbook.sh - client-executed mode: per-step overhead of a runbook
# step over running the program bare, and streaming output redaction on
# one core (BENCH_RUNBOOK_MIB, default 128, of the scanner bench's
# generated corpus: logs, source, config with seeded secrets).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
MIB=${BENCH_RUNBOOK_MIB:-128}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/breakglass-bench-runbook.XXXXXX")
trap 'rm -rf "$W"' EXIT
echo "== runbook"
"$here/build/bench/bench-runbook" step "${BENCH_RUNBOOK_STEPS:-300}"
"$here/build/bench/gen-corpus" "$W" "$MIB" >/dev/null
cat "$W"/corpus/* >"$W/output"
rm -rf "$W/corpus"
taskset -c 0 "$here/build/bench/bench-runbook" redact "$W/output" "${BENCH_RUNBOOK_ROUNDS:-3}"
