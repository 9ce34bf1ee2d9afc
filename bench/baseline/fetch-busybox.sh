#!/usr/bin/env bash
# The fetch script that `e2b-artifacts fetch` replaces, kept as the benchmark
# baseline and written as CONTEXT.md describes it: a stamp check, then two
# sequential curls into temp files, `sha256sum -c`, and only then mkdir, mv,
# chmod and a new stamp. Like the original it never re-checks a stamped file.
#
# usage: BUSYBOX_BASE_URL=https://host/bucket/busybox fetch-busybox.sh VERSION ARCH OUTPUT_PATH
#   BUSYBOX_BASE_URL  the artifact's prefix; objects are {VERSION}/{ARCH}/{file}
#   ARTIFACT_FILE     the object's file name (default busybox); the benchmark's
#                     512 MB case sets it to `firecracker` to reuse this script
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 VERSION ARCH OUTPUT_PATH" >&2
  exit 2
fi
version=$1
arch=$2
out=$3
base=${BUSYBOX_BASE_URL:-https://storage.googleapis.com/e2b-prod-public-builds/busybox}
file=${ARTIFACT_FILE:-busybox}
stamp="$(dirname "$out")/.stamp"

if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version-$arch" ]; then
  echo "$file $version-$arch is up to date"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL "$base/$version/$arch/$file" -o "$tmp/$file"
curl -fsSL "$base/$version/$arch/$file.sha256" -o "$tmp/$file.sha256"
# The sidecar names the file by its bare name, so check from inside the temp dir.
(cd "$tmp" && sha256sum -c "$file.sha256")

mkdir -p "$(dirname "$out")"
mv "$tmp/$file" "$out"
chmod +x "$out"
echo "$version-$arch" >"$stamp"
