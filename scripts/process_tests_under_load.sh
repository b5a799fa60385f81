#!/usr/bin/env bash
# The process tests (`billbot run` killed and restarted, two processes racing) N times in a
# row while two busy loops keep both CPU cores busy: the check that they do not flake.
#
#   BILLBOT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \
#     bash scripts/process_tests_under_load.sh [runs=20]
#
# Prints one line per run and a closing "N passed, M failed" line; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
runs="${1:-20}"
logs="$(mktemp -d)"
burners=()
for _ in 1 2; do
  python3 -c 'while True: pass' &
  burners+=("$!")
done
# Only the busy loops this script started, by their ids.
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
passed=0
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if python -m pytest tests/process -q -p no:randomly > "$logs/run-$i.log" 2>&1; then
    passed=$((passed + 1)); verdict=passed
  else
    failed=$((failed + 1)); verdict="FAILED (log: $logs/run-$i.log)"
  fi
  echo "run $i: $verdict in $(( $(date +%s) - start )) s; $(tail -n 1 "$logs/run-$i.log")"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
