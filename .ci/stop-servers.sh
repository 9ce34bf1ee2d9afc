#!/usr/bin/env bash
# Stops the servers .ci/start-servers.sh started and removes their data.
set -euo pipefail
state="${E2B_TEST_SERVERS_DIR:-${TMPDIR:-/tmp}/e2b-artifacts-ci-servers}"
[ -d "$state" ] || exit 0
# A zombie (exited, not yet reaped: some container inits never reap) counts as stopped.
alive() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }
for name in gcs s3 azure proxy refusing-proxy; do
  pidfile="$state/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if alive "$pid"; then
    kill "$pid"
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
rm -rf "$state"
