#!/usr/bin/env bash
# Benchmarks `e2b-artifacts copy-public-builds` against `rclone copy --checksum`
# (bench/copy-rclone.sh), each case in one hyperfine run so that both sides
# see the same machine state:
#   gcs-gcs-cold   public bucket → empty GCS env buckets (server-side copies)   target <= 1.0x rclone
#   gcs-s3-cold    public bucket → empty S3 env buckets (streamed through RAM)  target <= 1.0x rclone
#   nochange-*     the same copy again onto full env buckets                    target <= 1.0x rclone, 0 bytes moved
#   peak RSS       /usr/bin/time -f %M of RSS_RUNS cold runs each way          target: largest <= 200 MB
# "Cold" empties the destination buckets before every run (hyperfine --prepare).
# The public layout is 200 binaries of 1-20 MB (2.1 GB) plus their sidecars in
# a fake-gcs-server bucket on its filesystem backend (the object data would not
# fit comfortably in the 2-core bench machine's page cache and the server's heap
# at once), seeded once by bench/copy-seed.ts and kept in bench/.cache/copy/.
# S3 is versitygw's posix backend. Both servers listen on loopback only.
#
# Prints a table of medians and ratios on stdout (hyperfine's own report goes to
# stderr) and keeps the raw JSON under bench/results/copy-*/. See bench/README.md.
#
# usage: bash bench/copy.sh            (RUNS=3 runs per command and case)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[[ $repo != *[[:space:]]* ]] || { echo "bench/copy.sh: the repository path must not contain spaces: $repo" >&2; exit 1; }

RUNS=${RUNS:-3}
RSS_RUNS=${RSS_RUNS:-3}
PUBLIC=bench-public-builds
PREFIX=bench-env-
CONCURRENCY=8
S3_KEY=benchaccess
S3_SECRET=benchsecret123

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
mkdir -p "$app"
cp -r bin dist oclif.manifest.json package.json "$app/"
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
wait_for "http://127.0.0.1:$gcs_port/storage/v1/b" fake-gcs-server
wait_for "http://127.0.0.1:$s3_port/" versitygw

# The CLI's stores: fake-gcs-server without credentials, versitygw with its root key.
export E2B_ARTIFACTS_GCS_ENDPOINT="http://127.0.0.1:$gcs_port"
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_REGION=us-east-1
# rclone's remotes, named gcs: and s3:, on the same servers.
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_GCS_TYPE=gcs RCLONE_CONFIG_GCS_ANONYMOUS=true RCLONE_CONFIG_GCS_ENDPOINT="http://127.0.0.1:$gcs_port/storage/v1/"
export RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other RCLONE_CONFIG_S3_ENDPOINT="http://127.0.0.1:$s3_port" RCLONE_CONFIG_S3_REGION=us-east-1 \
  RCLONE_CONFIG_S3_ACCESS_KEY_ID=$S3_KEY RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=$S3_SECRET RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true

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

log "seeding gs://$PUBLIC (once; kept in $cache/gcs)"
node --import tsx bench/copy-seed.ts "gs://$PUBLIC"

# Both servers keep each bucket as a directory of plain files: emptying it is a
# local delete, so --prepare costs neither side any requests.
empty_gcs="find $(printf "$cache/gcs/%s " "${env_buckets[@]}") -mindepth 1 -delete"
empty_s3="find $(printf "$s3_root/%s " "${env_buckets[@]}") -mindepth 1 -delete"

tool() { # provider: the command line hyperfine runs
  echo "node $app/bin/run.js copy-public-builds --from gs://$PUBLIC --provider $1 --bucket-prefix $PREFIX --concurrency $CONCURRENCY --quiet"
}
baseline() { # gcs|s3
  echo "bash $repo/bench/copy-rclone.sh $1 $PREFIX $PUBLIC"
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
  echo "runs: $RUNS, concurrency: $CONCURRENCY"
} >"$results/env.txt"

hf() { # name prepare tool-cmd baseline-cmd
  log "$1"
  local prepare=()
  [ -n "$2" ] && prepare=(--prepare "$2")
  hyperfine --runs "$RUNS" "${prepare[@]}" --export-json "$results/$1.json" --command-name e2b-artifacts "$3" --command-name rclone "$4" >&2
}

# --- cold copies ---------------------------------------------------------------

hf gcs-gcs-cold "$empty_gcs" "$(tool gcp)" "$(baseline gcs)"
hf gcs-s3-cold "$empty_s3" "$(tool aws)" "$(baseline s3)"

# --- peak RSS of RSS_RUNS cold runs each way ------------------------------------------

rss() { # command...: peak RSS in KiB
  /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>"$work/rss.err" || die "$* failed: $(cat "$work/rss.err")"
  cat "$work/rss"
}
log "peak RSS ($RSS_RUNS cold runs each)"
declare -A rss_kib
for side in gcp:gcs aws:s3; do
  provider=${side%%:*} remote=${side#*:}
  empty="empty_$remote"
  for _ in $(seq "$RSS_RUNS"); do
    bash -c "${!empty}"
    # shellcheck disable=SC2046
    rss_kib[tool_$remote]+="${rss_kib[tool_$remote]:+,}$(rss $(tool "$provider"))"
    bash -c "${!empty}"
    # rclone is a child of bash here; GNU time reports the largest of them.
    # shellcheck disable=SC2046
    rss_kib[rclone_$remote]+="${rss_kib[rclone_$remote]:+,}$(rss $(baseline "$remote"))"
  done
done
printf '{"tool": {"gcs": [%s], "s3": [%s]}, "rclone": {"gcs": [%s], "s3": [%s]}}\n' \
  "${rss_kib[tool_gcs]}" "${rss_kib[tool_s3]}" "${rss_kib[rclone_gcs]}" "${rss_kib[rclone_s3]}" >"$results/rss.json"

# --- no-change re-runs onto buckets the tool filled --------------------------------

for side in gcp:gcs aws:s3; do
  provider=${side%%:*} remote=${side#*:}
  empty="empty_$remote"
  bash -c "${!empty}"
  # shellcheck disable=SC2046
  $(tool "$provider") 2>/dev/null || die "filling the $remote env buckets failed"
  hf "nochange-$remote" "" "$(tool "$provider")" "$(baseline "$remote")"
done

# Bytes moved by one more re-run of each: the tool's JSON summary, rclone's final stats.
declare -A moved
sum_rclone_bytes() { grep -o '"stats":{"bytes":[0-9]*' | grep -o '[0-9]*$' | awk '{ total += $1 } END { print total + 0 }'; }
for side in gcp:gcs aws:s3; do
  provider=${side%%:*} remote=${side#*:}
  # shellcheck disable=SC2046
  # Into a file, not a pipe: the CLI exits right after writing, and a pipe would cut a long document short.
  $(tool "$provider") --json >"$work/report.json"
  moved[tool_$remote]=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).summary.bytesCopied)' "$work/report.json")
  # shellcheck disable=SC2046
  moved[rclone_$remote]=$($(baseline "$remote") --use-json-log -v --stats 1h 2>&1 | sum_rclone_bytes)
done
printf '{"tool": {"gcs": %s, "s3": %s}, "rclone": {"gcs": %s, "s3": %s}}\n' \
  "${moved[tool_gcs]}" "${moved[tool_s3]}" "${moved[rclone_gcs]}" "${moved[rclone_s3]}" >"$results/bytes.json"

node --import tsx bench/copy-summarize.ts "$results"
echo "raw results: ${results#"$repo"/}" >&2
