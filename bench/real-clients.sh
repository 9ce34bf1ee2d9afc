#!/usr/bin/env bash
# Checks with real clients, after the tool has done upstream's deploy jobs:
# what `copy-public-builds` writes must read back, identical, in the clients a
# deployer already uses. On loopback only, with its own fake-gcs-server and
# versitygw:
#   1. a public bucket filled as upstream's tooling fills it (plain uploads, no
#      sha256 metadata; busybox with sidecars; kernels and Firecracker without,
#      with companion files and a legacy flat build);
#   2. copy-public-builds from its anonymous view (no --from: the default) into
#      GCS env buckets, S3 env buckets and host directories;
#   3. `rclone check --checksum` of every artifact prefix against each copy
#      (md5 on both sides: GCS's own, S3's single-part ETag, local files);
#   4. `sha256sum -c` of every sidecar in the host directories, and the aws CLI
#      reading an object and its sha256 metadata back from S3;
#   5. a second copy-public-builds run that copies nothing.
# Any mismatch fails the script (exit 1).
#
# Not part of CI: it needs rclone and the aws CLI (apt-get install rclone;
# pip install awscli), which .ci/run does not install, and it checks client
# compatibility of what the integration tests already verify byte for byte.
# bench/copy.sh needs rclone anyway.
#
# usage: bash bench/real-clients.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
GOBIN=${GOBIN:-$HOME/go/bin}
export PATH="$GOBIN:$PATH"
PUBLIC=real-clients-public
PREFIX=real-clients-env-
S3_KEY=realclients
S3_SECRET=realclientssecret123

die() {
  echo "bench/real-clients.sh: $*" >&2
  exit 1
}
log() { echo "== $*" >&2; }

for tool in rclone aws fake-gcs-server versitygw curl sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -f dist/commands/copy-public-builds.js ] || npm run build >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/e2b-real-clients.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() {
  for _ in $(seq 200); do
    if curl -s -o /dev/null "$1"; then return; fi
    sleep 0.05
  done
  die "$2 did not start within 10 s"
}

gcs_port=$(free_port)
gcs="http://127.0.0.1:$gcs_port"
fake-gcs-server -scheme http -host 127.0.0.1 -port "$gcs_port" -backend memory -external-url "$gcs" -public-host "127.0.0.1:$gcs_port" -log-level error >"$work/gcs.log" 2>&1 &
pids+=($!)
s3_port=$(free_port)
mkdir -p "$work/s3"
versitygw --access "$S3_KEY" --secret "$S3_SECRET" --port "127.0.0.1:$s3_port" posix "$work/s3" >"$work/s3.log" 2>&1 &
pids+=($!)
wait_for "$gcs/storage/v1/b" fake-gcs-server
wait_for "http://127.0.0.1:$s3_port/" versitygw

# The tool: the anonymous view of the public bucket through the emulator, S3 with the root key.
export E2B_ARTIFACTS_GCS_ENDPOINT=$gcs E2B_ARTIFACTS_PUBLIC_BUCKET=$PUBLIC
unset E2B_ARTIFACTS_COPY_FROM E2B_ARTIFACTS_PUBLIC_URL
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
# rclone's remotes gcs: and s3: on the same servers.
export RCLONE_CONFIG=/dev/null
# rclone refuses AWS_CA_BUNDLE with its own HTTP transport; loopback http needs no CA.
unset AWS_CA_BUNDLE
export RCLONE_CONFIG_GCS_TYPE=gcs RCLONE_CONFIG_GCS_ANONYMOUS=true RCLONE_CONFIG_GCS_ENDPOINT="$gcs/storage/v1/"
export RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other RCLONE_CONFIG_S3_ENDPOINT="http://127.0.0.1:$s3_port" RCLONE_CONFIG_S3_REGION=us-east-1 \
  RCLONE_CONFIG_S3_ACCESS_KEY_ID=$S3_KEY RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=$S3_SECRET RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true
cli() { node "$repo/bin/run.js" "$@"; }

log "a public bucket as upstream fills it"
create_gcs_bucket() { curl -sf -o /dev/null -X POST -H 'content-type: application/json' -d "{\"name\":\"$1\"}" "$gcs/storage/v1/b"; }
put() { # name file
  curl -sf -o /dev/null -X POST --data-binary "@$2" "$gcs/upload/storage/v1/b/$PUBLIC/o?uploadType=media&name=$1"
}
create_gcs_bucket "$PUBLIC"
tree="$work/tree"
mkdir -p "$tree"
for arch in amd64 arm64; do
  fixture="test/fixtures/busybox/$arch/busybox"
  [ -f "$fixture" ] || die "missing $fixture: bash test/fixtures/get-busybox.sh"
  put "busybox/1.35.0/$arch/busybox" "$fixture"
  (cd "$(dirname "$fixture")" && sha256sum busybox) >"$tree/busybox-$arch.sha256"
  put "busybox/1.35.0/$arch/busybox.sha256" "$tree/busybox-$arch.sha256"
done
random() { head -c "$2" /dev/urandom >"$tree/$1"; }
random kernel-new 3000000 && put kernels/vmlinux-6.1.158/amd64/vmlinux.bin "$tree/kernel-new"
random kernel-debug 1000000 && put kernels/vmlinux-6.1.158/amd64/vmlinux.debug "$tree/kernel-debug"
random kernel-flat 2000000 && put kernels/vmlinux-6.1.102/vmlinux.bin "$tree/kernel-flat"
random fc 1500000 && put firecrackers/v1.12.1_210cbac/amd64/firecracker "$tree/fc"
random fc-debug 1200000 && put firecrackers/v1.12.1_210cbac/amd64/firecracker-debug "$tree/fc-debug"

log "copy-public-builds into GCS, S3 and host directories"
for suffix in fc-busybox fc-kernels fc-versions; do
  create_gcs_bucket "$PREFIX$suffix"
  rclone mkdir "s3:$PREFIX$suffix"
done
host="$work/host"
cli copy-public-builds --provider gcp --bucket-prefix "$PREFIX" --quiet
cli copy-public-builds --provider aws --bucket-prefix "$PREFIX" --quiet
cli copy-public-builds --to "busybox=file://$host/fc-busybox" --to "kernel=file://$host/fc-kernels" --to "firecracker=file://$host/fc-versions" --quiet

failures=0
check() { # what, command...
  local what=$1
  shift
  if "$@" >"$work/check.log" 2>&1; then
    log "ok: $what"
  else
    failures=$((failures + 1))
    log "FAILED: $what"
    sed 's/^/   /' "$work/check.log" >&2
  fi
}

for pair in busybox:fc-busybox kernels:fc-kernels firecrackers:fc-versions; do
  prefix=${pair%%:*}
  suffix=${pair#*:}
  check "rclone check --checksum gcs:$PUBLIC/$prefix gcs:$PREFIX$suffix" rclone check --checksum "gcs:$PUBLIC/$prefix" "gcs:$PREFIX$suffix"
  check "rclone check --checksum gcs:$PUBLIC/$prefix s3:$PREFIX$suffix" rclone check --checksum "gcs:$PUBLIC/$prefix" "s3:$PREFIX$suffix"
  check "rclone check --checksum gcs:$PUBLIC/$prefix $host/$suffix" rclone check --checksum "gcs:$PUBLIC/$prefix" "$host/$suffix"
done
for sidecar in "$host"/fc-busybox/1.35.0/*/busybox.sha256; do
  check "sha256sum -c $sidecar" bash -c "cd '$(dirname "$sidecar")' && sha256sum -c busybox.sha256"
done
check "binaries in host directories are executable" bash -c "[ -z \"\$(find '$host' -type f ! -name '*.sha256' ! -perm 0755)\" ]"
check "aws s3api head-object shows the sha256 metadata" bash -c "
  set -euo pipefail
  aws --endpoint-url 'http://127.0.0.1:$s3_port' s3api head-object --bucket '${PREFIX}fc-kernels' --key vmlinux-6.1.158/amd64/vmlinux.bin --query Metadata.sha256 --output text \
    | grep -qx \"\$(sha256sum <'$tree/kernel-new' | cut -d' ' -f1)\""
check "aws s3 cp reads back the legacy flat kernel" bash -c "
  set -euo pipefail
  aws --endpoint-url 'http://127.0.0.1:$s3_port' s3 cp 's3://${PREFIX}fc-kernels/vmlinux-6.1.102/vmlinux.bin' - | cmp - '$tree/kernel-flat'"
check "a second run copies nothing" bash -c "
  node '$repo/bin/run.js' copy-public-builds --provider aws --bucket-prefix '$PREFIX' --json | node -e '
    const r = JSON.parse(require(\"fs\").readFileSync(0, \"utf8\")); if (r.summary.copied !== 0) { console.error(r.summary); process.exit(1) }'"

if [ "$failures" -gt 0 ]; then
  die "$failures check(s) failed"
fi
log "all checks passed"
