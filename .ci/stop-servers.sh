#!/usr/bin/env bash
# Stops the servers .ci/start-servers.sh started and removes their data.
set -euo pipefail
state="${E2B_TEST_SERVERS_DIR:-${TMPDIR:-/tmp}/e2b-artifacts-ci-servers}"
[ -d "$state" ] || exit 0
for name in gcs s3; do
  pidfile="$state/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
rm -rf "$state"
