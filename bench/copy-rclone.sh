#!/usr/bin/env bash
# The baseline for bench/copy.sh: what a deploy pipeline would run without
# e2b-artifacts. `rclone copy --checksum` for each artifact prefix of the public
# bucket into its env bucket, one after the other, with the same parallelism
# as copy-public-builds (8 transfers). rclone skips objects whose size and md5
# match, copies server side within GCS, and streams GCS → S3 and GCS → Azure
# through memory. Remotes come from RCLONE_CONFIG_GCS_*, RCLONE_CONFIG_S3_* and
# RCLONE_CONFIG_AZ_* (set by copy.sh). For az, pass an empty BUCKET_PREFIX:
# the containers are upstream's fc-busybox, fc-kernels and fc-versions.
#
# usage: bash bench/copy-rclone.sh gcs|s3|az BUCKET_PREFIX PUBLIC_BUCKET [RCLONE_FLAG...]
set -euo pipefail

remote=${1:?usage: copy-rclone.sh gcs|s3|az BUCKET_PREFIX PUBLIC_BUCKET}
prefix=${2?bucket prefix (may be empty)}
public=${3:?public bucket}
shift 3
# rclone refuses AWS_CA_BUNDLE with its own HTTP transport; loopback needs no CA.
unset AWS_CA_BUNDLE

for pair in busybox:fc-busybox kernels:fc-kernels firecrackers:fc-versions; do
  rclone copy --checksum --transfers 8 --checkers 8 --s3-no-check-bucket --gcs-no-check-bucket \
    "$@" "gcs:$public/${pair%%:*}" "$remote:$prefix${pair#*:}"
done
