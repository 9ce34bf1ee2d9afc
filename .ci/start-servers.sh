#!/usr/bin/env bash
# Starts the local cloud servers the integration tests use, in the background,
# on loopback ports (the defaults below, or a free one when a default is taken),
# and prints `export E2B_TEST_...=...` lines on stdout for
# `eval "$(bash .ci/start-servers.sh)"`. Progress and errors go to stderr.
#
#   fake-gcs-server (GCS JSON API and public URLs)  127.0.0.1:${E2B_TEST_GCS_PORT:-4443}
#   versitygw (S3, posix backend)                    127.0.0.1:${E2B_TEST_S3_PORT:-7070}
#   Azurite (Azure Blob, npm devDependency)          127.0.0.1:${E2B_TEST_AZURE_PORT:-10000}
#   tinyproxy, forward proxy with a request log      127.0.0.1:${E2B_TEST_PROXY_PORT:-8899}
#   tinyproxy, refusing every request (403)          127.0.0.1:${E2B_TEST_REFUSING_PROXY_PORT:-8898}
#
# The tinyproxy configurations are test/support/tinyproxy/*.conf, shared with
# the tests' own fallback (test/support/proxy.ts).
#
# Idempotent: servers this script started earlier that still answer are reused.
# .ci/stop-servers.sh stops them and removes their data.
set -euo pipefail

state="${E2B_TEST_SERVERS_DIR:-${TMPDIR:-/tmp}/e2b-artifacts-ci-servers}"
gcs_port="${E2B_TEST_GCS_PORT:-4443}"
s3_port="${E2B_TEST_S3_PORT:-7070}"
azure_port="${E2B_TEST_AZURE_PORT:-10000}"
proxy_port="${E2B_TEST_PROXY_PORT:-8899}"
refusing_proxy_port="${E2B_TEST_REFUSING_PROXY_PORT:-8898}"
root="$(cd "$(dirname "$0")/.." && pwd)"
azurite_main="$root/node_modules/azurite/dist/src/blob/main.js"
# Azurite's fixed development account key: public, documented by Microsoft, not a secret.
azure_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
ready_timeout="${E2B_TEST_SERVERS_TIMEOUT:-30}"
export PATH="$PATH:${GOBIN:-${GOPATH:-$HOME/go}/bin}:$HOME/go/bin"

log() { printf 'start-servers: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH or in ~/go/bin: install it with '$2'"
}

# Any HTTP status counts as up (versitygw answers an anonymous GET with 403).
answers() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" || true)" != "000" ]; }

# The preferred port when nothing listens there, else any free loopback port,
# so that a busy CI machine does not fail the run over a port number.
pick_port() {
  node -e '
    const net = require("node:net")
    const listen = (port, onError) => {
      const server = net.createServer()
      server.once("error", onError)
      server.listen(port, "127.0.0.1", () => { const {port} = server.address(); server.close(() => console.log(port)) })
    }
    listen(Number(process.argv[1]), () => listen(0, (error) => { console.error(error.message); process.exit(1) }))
  ' "$1"
}

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

wait_ready() {
  local name=$1 url=$2 deadline=$((SECONDS + ready_timeout))
  until answers "$url"; do
    if ! running "$name"; then
      tail -n 30 "$state/$name.log" >&2 || true
      die "$name exited before answering at $url"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$state/$name.log" >&2 || true
      die "$name did not answer at $url within ${ready_timeout}s"
    fi
    sleep 0.2
  done
  log "$name is up at $url"
}

start() {
  local name=$1; shift
  nohup setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}

need curl 'apt-get install curl'
need node 'install Node.js 20'
need fake-gcs-server 'go install github.com/fsouza/fake-gcs-server@v1.55.1'
need versitygw 'go install github.com/versity/versitygw/cmd/versitygw@v1.7.0'
need tinyproxy 'apt-get install tinyproxy-bin'
[ -f "$azurite_main" ] || die "azurite is not installed: run 'npm ci' (it is a devDependency)"
mkdir -p "$state"

running gcs && [ -f "$state/gcs.port" ] && gcs_port=$(cat "$state/gcs.port")
gcs_url="http://127.0.0.1:$gcs_port"
if running gcs && answers "$gcs_url/storage/v1/b"; then
  log "reusing fake-gcs-server at $gcs_url"
else
  gcs_port=$(pick_port "$gcs_port")
  gcs_url="http://127.0.0.1:$gcs_port"
  start gcs fake-gcs-server -scheme http -host 127.0.0.1 -port "$gcs_port" \
    -public-host "127.0.0.1:$gcs_port" -external-url "$gcs_url" -backend memory -log-level warn
  echo "$gcs_port" >"$state/gcs.port"
  wait_ready gcs "$gcs_url/storage/v1/b"
fi

running s3 && [ -f "$state/s3.port" ] && s3_port=$(cat "$state/s3.port")
s3_url="http://127.0.0.1:$s3_port"
if running s3 && [ -f "$state/s3.keys" ] && answers "$s3_url/"; then
  log "reusing versitygw at $s3_url"
else
  s3_port=$(pick_port "$s3_port")
  s3_url="http://127.0.0.1:$s3_port"
  rm -rf "$state/s3-data"
  mkdir -p "$state/s3-data"
  # Fresh keys per start; they only ever guard a loopback test server.
  printf 'e2btest%s %s\n' "$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    "$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$state/s3.keys"
  read -r access secret <"$state/s3.keys"
  start s3 versitygw --access "$access" --secret "$secret" --port "127.0.0.1:$s3_port" --quiet posix "$state/s3-data"
  echo "$s3_port" >"$state/s3.port"
  wait_ready s3 "$s3_url/"
fi
read -r access secret <"$state/s3.keys"

running azure && [ -f "$state/azure.port" ] && azure_port=$(cat "$state/azure.port")
azure_url="http://127.0.0.1:$azure_port/devstoreaccount1"
# An unauthenticated listing answers 403 once Azurite is up.
if running azure && answers "$azure_url?comp=list"; then
  log "reusing Azurite at $azure_url"
else
  azure_port=$(pick_port "$azure_port")
  azure_url="http://127.0.0.1:$azure_port/devstoreaccount1"
  rm -rf "$state/azurite"
  mkdir -p "$state/azurite"
  # --disableTelemetry is not optional: without it Azurite sends telemetry off the machine.
  start azure node "$azurite_main" --blobHost 127.0.0.1 --blobPort "$azure_port" --location "$state/azurite" \
    --loose --skipApiVersionCheck --disableTelemetry
  echo "$azure_port" >"$state/azure.port"
  wait_ready azure "$azure_url?comp=list"
fi

# start_proxy NAME KIND PORT: tinyproxy with test/support/tinyproxy/KIND.conf,
# logging requests to $state/NAME-access.log. tinyproxy answers a request
# without a proxy target with 400, which counts as up.
start_proxy() {
  local name=$1 kind=$2 port=$3 url
  running "$name" && [ -f "$state/$name.port" ] && port=$(cat "$state/$name.port")
  url="http://127.0.0.1:$port"
  if running "$name" && answers "$url/"; then
    log "reusing $name (tinyproxy) at $url"
    return
  fi
  port=$(pick_port "$port")
  url="http://127.0.0.1:$port"
  # Only now, with no tinyproxy writing to it: truncating a log in use leaves NUL bytes.
  : >"$state/$name-access.log"
  sed -e "s|@PORT@|$port|g" -e "s|@LOG@|$state/$name-access.log|g" "$root/test/support/tinyproxy/$kind.conf" >"$state/$name.conf"
  start "$name" tinyproxy -d -c "$state/$name.conf"
  echo "$port" >"$state/$name.port"
  wait_ready "$name" "$url/"
}
start_proxy proxy forward "$proxy_port"
start_proxy refusing-proxy refusing "$refusing_proxy_port"

printf 'export E2B_TEST_SERVERS_DIR=%q\n' "$state"
printf 'export E2B_TEST_GCS_ENDPOINT=%q\n' "$gcs_url"
printf 'export E2B_TEST_GCS_PUBLIC_URL=%q\n' "$gcs_url"
printf 'export E2B_TEST_S3_ENDPOINT=%q\n' "$s3_url"
printf 'export E2B_TEST_S3_ACCESS_KEY=%q\n' "$access"
printf 'export E2B_TEST_S3_SECRET_KEY=%q\n' "$secret"
printf 'export E2B_TEST_AZURE_CONNECTION_STRING=%q\n' \
  "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$azure_key;BlobEndpoint=$azure_url;"
printf 'export E2B_TEST_PROXY_URL=%q\n' "http://127.0.0.1:$(cat "$state/proxy.port")"
printf 'export E2B_TEST_PROXY_LOG=%q\n' "$state/proxy-access.log"
printf 'export E2B_TEST_REFUSING_PROXY_URL=%q\n' "http://127.0.0.1:$(cat "$state/refusing-proxy.port")"
printf 'export E2B_TEST_REFUSING_PROXY_LOG=%q\n' "$state/refusing-proxy-access.log"
