#!/usr/bin/env bash
# Build modwsgi-test/cpython:3.13: the Debian 12 test image (tests/images/build.sh)
# with CPython 3.13 built from source into /usr/local (see Dockerfile). The build
# takes a few minutes on two cores, so the image is cached by a tag derived from
# the Dockerfile and the base image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=modwsgi-test/debian:12
repo=modwsgi-test/cpython
tag="$repo:3.13-$({ cat "$here/Dockerfile"; docker image inspect --format '{{.Id}}' "$base"; } | sha256sum | cut -c1-12)"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "==> $repo:3.13 is up to date ($tag)"
else
  echo "==> building $tag (CPython from source, a few minutes)"
  log=$(docker build -q -t "$tag" "$here" 2>&1) || { echo "$log" | tail -n 40 >&2; exit 1; }
  echo "==> built $tag"
fi
docker tag "$tag" "$repo:3.13"
