#!/usr/bin/env bash
# Offline demo of the main job: lays out a public-bucket mirror from Debian's
# static busybox and fetches from it twice (a download, then an up-to-date no-op).
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/fixtures/get-busybox.sh >/dev/null
version=1.35.0
mirror="$PWD/.demo/public-builds"
for arch in amd64 arm64; do
  dir="$mirror/busybox/$version/$arch"
  mkdir -p "$dir"
  cp test/fixtures/busybox/$arch/busybox "$dir/busybox"
  (cd "$dir" && sha256sum busybox > busybox.sha256)
done
./bin/run.js fetch busybox --version "$version" --from "file://$mirror" --out .demo/busybox --force
./bin/run.js fetch busybox --version "$version" --from "file://$mirror" --out .demo/busybox
banner=$(./.demo/busybox || true)
./.demo/busybox echo "busybox runs: ${banner%%$'\n'*}"
