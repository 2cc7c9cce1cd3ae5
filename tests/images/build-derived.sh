#!/usr/bin/env bash
# Build a test image from a Dockerfile on top of one of the local Debian test images
# (tests/images/build.sh), cached by a tag derived from the Dockerfile and the base
# image, and tag it NAME:TAG.
# Usage: build-derived.sh DOCKERFILE_DIR BASE_IMAGE NAME TAG [WHAT_TAKES_TIME]
set -euo pipefail
dir=$1 base=$2 repo=$3 short=$4 note=${5:-}
tag="$repo:$short-$({ cat "$dir/Dockerfile"; docker image inspect --format '{{.Id}}' "$base"; } | sha256sum | cut -c1-12)"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "==> $repo:$short is up to date ($tag)"
else
  echo "==> building $tag${note:+ ($note)}"
  log=$(docker build -q -t "$tag" -f "$dir/Dockerfile" "$dir" 2>&1) || { echo "$log" | tail -n 40 >&2; exit 1; }
  echo "==> built $tag"
fi
docker tag "$tag" "$repo:$short"
