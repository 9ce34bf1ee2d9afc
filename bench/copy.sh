#!/usr/bin/env bash
# Benchmarks `e2b-artifacts copy-public-builds` against `rclone copy --checksum`
# (bench/copy-rclone.sh), each case in one hyperfine run so that both sides
# see the same machine state:
#   gcs-gcs-cold   public bucket → empty GCS env buckets (server-side copies)   target <= 1.0x rclone
#   gcs-s3-cold    public bucket → empty S3 env buckets (streamed through RAM)  target <= 1.0x rclone
#   gcs-az-cold    public bucket → empty Azure containers (streamed)           target <= 1.0x rclone
#   nochange-*     the same copy again onto full env buckets                    target <= 1.0x rclone, 0 bytes moved
#   peak RSS       /usr/bin/time -f %M of RSS_RUNS cold runs each way          target: largest <= 200 MB
# "Cold" empties the destination buckets before every run (hyperfine --prepare).
# The public layout is 200 binaries of 1-20 MB (2.1 GB) plus their sidecars in
# a fake-gcs-server bucket on its filesystem backend (the object data would not
# fit comfortably in the 2-core bench machine's page cache and the server's heap
# at once), seeded once by bench/copy-seed.ts and kept in bench/.cache/copy/.
# S3 is versitygw's posix backend; Azure is Azurite (the npm devDependency, with
# --disableTelemetry) in the account devstoreaccount1, whose containers
# fc-busybox, fc-kernels and fc-versions `--provider azure` names. Every server
# listens on loopback only.
#
# Prints a table of medians and ratios on stdout (hyperfine's own report goes to
# stderr) and keeps the raw JSON under bench/results/copy-*/. See bench/README.md.
#
# usage: bash bench/copy.sh            (RUNS=3 runs per command and case)
#        APP_DIR=/path/to/build bash bench/copy.sh
#                                      (benchmark another build, such as an older commit's: a
#                                       directory with bin/, dist/, package.json and node_modules/)
#        DESTINATIONS="az" BINARIES=6 RUNS=1 RSS_RUNS=1 bash bench/copy.sh
#                                      (only some destinations, of gcs s3 az; BINARIES=N seeds
#                                       and copies only the first N binaries, into a bucket of its
#                                       own: a quick check that the cases run, not a result)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[[ $repo != *[[:space:]]* ]] || { echo "bench/copy.sh: the repository path must not contain spaces: $repo" >&2; exit 1; }

RUNS=${RUNS:-3}
RSS_RUNS=${RSS_RUNS:-3}
DESTINATIONS=${DESTINATIONS:-gcs s3 az}
BINARIES=${BINARIES:-}
PUBLIC=bench-public-builds${BINARIES:+-$BINARIES}
PREFIX=bench-env-
CONCURRENCY=8
S3_KEY=benchaccess
S3_SECRET=benchsecret123
AZ_ACCOUNT=devstoreaccount1
# Azurite's fixed development account key: public, documented by Microsoft, not a secret.
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZ_CONTAINERS=(fc-busybox fc-kernels fc-versions)
azurite_main="$repo/node_modules/azurite/dist/src/blob/main.js"

cache="$repo/bench/.cache/copy"
GOBIN=${GOBIN:-$HOME/go/bin}
export PATH="$GOBIN:$PATH"

die() {
  echo "bench/copy.sh: $*" >&2
  exit 1
}
log() { echo "== $*" >&2; }

# --- prerequisites -----------------------------------------------------------

for tool in hyperfine rclone fake-gcs-server versitygw curl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (see bench/README.md)"
done
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed for peak RSS: apt-get install -y time"
[ -f "$azurite_main" ] || die "azurite is not installed: npm ci (it is a devDependency)"
[[ -z $BINARIES || $BINARIES =~ ^[1-9][0-9]*$ ]] || die "BINARIES must be a whole number"
for destination in $DESTINATIONS; do
  [[ $destination =~ ^(gcs|s3|az)$ ]] || die "unknown destination '$destination' in DESTINATIONS (use gcs, s3 and az)"
done

if [ ! -f dist/commands/copy-public-builds.js ] || [ ! -f oclif.manifest.json ]; then
  log "dist/ is missing: npm run build"
  npm run build >&2
elif [ -n "$(find src -name '*.ts' -newer dist/commands/copy-public-builds.js -print -quit)" ]; then
  echo "warning: src/ has changes newer than dist/; run npm run build to benchmark them" >&2
fi

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# --- servers -----------------------------------------------------------------

mkdir -p "$cache/gcs" "$cache/logs"
work=$(mktemp -d "$cache/run.XXXXXX")
# The runs use a snapshot of the built CLI, so a rebuild meanwhile neither fails them nor mixes two builds.
# (It lives under the repository, so its imports still resolve to the repository's node_modules.)
app="$work/app"
if [ -n "${APP_DIR:-}" ]; then
  [ -f "$APP_DIR/bin/run.js" ] && [ -d "$APP_DIR/dist" ] || die "APP_DIR=$APP_DIR is not a build (no bin/run.js or dist/)"
  app=$APP_DIR
else
  mkdir -p "$app"
  cp -r bin dist oclif.manifest.json package.json "$app/"
fi
s3_root="$work/s3"
mkdir -p "$s3_root"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # url what
  for _ in $(seq 200); do
    if curl -s -o /dev/null "$1"; then return; fi
    sleep 0.05
  done
  die "$2 did not start within 10 s (logs in $cache/logs)"
}

gcs_port=$(free_port)
fake-gcs-server -scheme http -host 127.0.0.1 -port "$gcs_port" -backend filesystem -filesystem-root "$cache/gcs" \
  -external-url "http://127.0.0.1:$gcs_port" -public-host "127.0.0.1:$gcs_port" -log-level error >"$cache/logs/fake-gcs-server.log" 2>&1 &
pids+=($!)
s3_port=$(free_port)
versitygw --access "$S3_KEY" --secret "$S3_SECRET" --port "127.0.0.1:$s3_port" posix "$s3_root" >"$cache/logs/versitygw.log" 2>&1 &
pids+=($!)
az_port=$(free_port)
# --disableTelemetry is not optional: without it Azurite sends telemetry off the machine.
node "$azurite_main" --blobHost 127.0.0.1 --blobPort "$az_port" --location "$work/azurite" \
  --loose --skipApiVersionCheck --disableTelemetry >"$cache/logs/azurite.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$gcs_port/storage/v1/b" fake-gcs-server
wait_for "http://127.0.0.1:$s3_port/" versitygw
wait_for "http://127.0.0.1:$az_port/$AZ_ACCOUNT?comp=list" Azurite

# The CLI's stores: fake-gcs-server without credentials, versitygw with its root key.
export E2B_ARTIFACTS_GCS_ENDPOINT="http://127.0.0.1:$gcs_port"
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_REGION=us-east-1
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$az_port/$AZ_ACCOUNT;"
# rclone's remotes, named gcs:, s3: and az:, on the same servers.
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_GCS_TYPE=gcs RCLONE_CONFIG_GCS_ANONYMOUS=true RCLONE_CONFIG_GCS_ENDPOINT="http://127.0.0.1:$gcs_port/storage/v1/"
export RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other RCLONE_CONFIG_S3_ENDPOINT="http://127.0.0.1:$s3_port" RCLONE_CONFIG_S3_REGION=us-east-1 \
  RCLONE_CONFIG_S3_ACCESS_KEY_ID=$S3_KEY RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=$S3_SECRET RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true
# rclone 1.60 turns an account and an endpoint into https://ACCOUNT.ENDPOINT, which cannot name Azurite on
# a loopback port; an account SAS URL can (for an IP host, the first path segment is the account).
az_sas=$(node -e '
  const blob = require("@azure/storage-blob")
  const key = new blob.StorageSharedKeyCredential(process.argv[1], process.argv[2])
  const values = {
    expiresOn: new Date(Date.now() + 86_400_000),
    permissions: blob.AccountSASPermissions.parse("rwdlacup"),
    protocol: blob.SASProtocol.HttpsAndHttp,
    resourceTypes: blob.AccountSASResourceTypes.parse("sco").toString(),
    services: blob.AccountSASServices.parse("b").toString(),
  }
  console.log(blob.generateAccountSASQueryParameters(values, key).toString())
' "$AZ_ACCOUNT" "$AZ_KEY")
export RCLONE_CONFIG_AZ_TYPE=azureblob RCLONE_CONFIG_AZ_SAS_URL="http://127.0.0.1:$az_port/$AZ_ACCOUNT?$az_sas"

# --- buckets -----------------------------------------------------------------

env_buckets=("${PREFIX}fc-busybox" "${PREFIX}fc-kernels" "${PREFIX}fc-versions")
create_gcs_bucket() {
  curl -s -o /dev/null -X POST -H 'content-type: application/json' -d "{\"name\":\"$1\"}" "http://127.0.0.1:$gcs_port/storage/v1/b"
}
create_gcs_bucket "$PUBLIC"
for bucket in "${env_buckets[@]}"; do
  create_gcs_bucket "$bucket"
  env -u AWS_CA_BUNDLE rclone mkdir "s3:$bucket"
done
# The containers exist before either side runs: infrastructure creates them, never the tool.
for container in "${AZ_CONTAINERS[@]}"; do rclone mkdir "az:$container"; done

log "seeding gs://$PUBLIC (once; kept in $cache/gcs)"
node --import tsx bench/copy-seed.ts "gs://$PUBLIC" $BINARIES

# Both servers keep each bucket as a directory of plain files: emptying it is a
# local delete, so --prepare costs neither side any requests.
empty_gcs="find $(printf "$cache/gcs/%s " "${env_buckets[@]}") -mindepth 1 -delete"
empty_s3="find $(printf "$s3_root/%s " "${env_buckets[@]}") -mindepth 1 -delete"
# Azurite keeps blobs in its own database, so its containers are emptied through the API (still before the timing starts).
empty_az="$(printf 'rclone delete --checkers 16 az:%s && ' "${AZ_CONTAINERS[@]}") true"

provider_of() { # destination → --provider
  case $1 in gcs) echo gcp ;; s3) echo aws ;; az) echo azure ;; esac
}
tool() { # destination: the command line hyperfine runs
  local target="--bucket-prefix $PREFIX"
  [ "$1" = az ] && target="--storage-account $AZ_ACCOUNT"
  echo "node $app/bin/run.js copy-public-builds --from gs://$PUBLIC --provider $(provider_of "$1") $target --concurrency $CONCURRENCY --quiet"
}
baseline() { # destination
  local prefix=$PREFIX
  [ "$1" = az ] && prefix=''
  echo "bash $repo/bench/copy-rclone.sh $1 '$prefix' $PUBLIC"
}

results="$repo/bench/results/copy-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"
{
  echo "date: $(date -Is)"
  echo "node: $(node --version)"
  echo "hyperfine: $(hyperfine --version)"
  echo "rclone: $(rclone version 2>/dev/null | sed -n 1p)"
  echo "cpus: $(nproc)"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "build: ${APP_DIR:-this checkout}"
  echo "runs: $RUNS, concurrency: $CONCURRENCY, destinations: $DESTINATIONS, binaries: ${BINARIES:-all}"
} >"$results/env.txt"

hf() { # name prepare tool-cmd baseline-cmd
  log "$1"
  local prepare=()
  [ -n "$2" ] && prepare=(--prepare "$2")
  hyperfine --runs "$RUNS" "${prepare[@]}" --export-json "$results/$1.json" --command-name e2b-artifacts "$3" --command-name rclone "$4" >&2
}

# --- cold copies ---------------------------------------------------------------

# gcs-gcs-cold, gcs-s3-cold, gcs-az-cold
for destination in $DESTINATIONS; do
  empty="empty_$destination"
  hf "gcs-$destination-cold" "${!empty}" "$(tool "$destination")" "$(baseline "$destination")"
done

# --- peak RSS of RSS_RUNS cold runs each way ------------------------------------------

rss() { # command...: peak RSS in KiB
  /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>"$work/rss.err" || die "$* failed: $(cat "$work/rss.err")"
  cat "$work/rss"
}
# JSON of the samples: {"tool": {"gcs": [...], ...}, "rclone": {...}}, one key per destination.
json_samples() { # side
  local side=$1 sep='' out='{'
  for destination in $DESTINATIONS; do
    out+="$sep\"$destination\": [${samples[${side}_$destination]}]"
    sep=', '
  done
  echo "$out}"
}
log "peak RSS ($RSS_RUNS cold runs each)"
declare -A samples
for destination in $DESTINATIONS; do
  empty="empty_$destination"
  for _ in $(seq "$RSS_RUNS"); do
    bash -c "${!empty}"
    # shellcheck disable=SC2046
    samples[tool_$destination]+="${samples[tool_$destination]:+,}$(rss $(tool "$destination"))"
    bash -c "${!empty}"
    # rclone is a child of bash here; GNU time reports the largest of them.
    samples[rclone_$destination]+="${samples[rclone_$destination]:+,}$(rss bash -c "$(baseline "$destination")")"
  done
done
printf '{"tool": %s, "rclone": %s}\n' "$(json_samples tool)" "$(json_samples rclone)" >"$results/rss.json"

# --- no-change re-runs onto buckets the tool filled --------------------------------

for destination in $DESTINATIONS; do
  empty="empty_$destination"
  bash -c "${!empty}"
  # shellcheck disable=SC2046
  $(tool "$destination") 2>/dev/null || die "filling the $destination env buckets failed"
  hf "nochange-$destination" "" "$(tool "$destination")" "$(baseline "$destination")"
done

# Bytes moved by one more re-run of each: the tool's JSON summary, rclone's final stats.
declare -A moved
sum_rclone_bytes() { grep -o '"stats":{"bytes":[0-9]*' | grep -o '[0-9]*$' | awk '{ total += $1 } END { print total + 0 }'; }
for destination in $DESTINATIONS; do
  # shellcheck disable=SC2046
  # Into a file, not a pipe: the CLI exits right after writing, and a pipe would cut a long document short.
  $(tool "$destination") --json >"$work/report.json"
  moved[tool_$destination]=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).summary.bytesCopied)' "$work/report.json")
  moved[rclone_$destination]=$(bash -c "$(baseline "$destination") --use-json-log -v --stats 1h" 2>&1 | sum_rclone_bytes)
done
bytes_json() { # side
  local side=$1 sep='' out='{'
  for destination in $DESTINATIONS; do
    out+="$sep\"$destination\": ${moved[${side}_$destination]}"
    sep=', '
  done
  echo "$out}"
}
printf '{"tool": %s, "rclone": %s}\n' "$(bytes_json tool)" "$(bytes_json rclone)" >"$results/bytes.json"

node --import tsx bench/copy-summarize.ts "$results"
echo "raw results: ${results#"$repo"/}" >&2
