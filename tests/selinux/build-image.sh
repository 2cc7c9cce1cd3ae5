#!/usr/bin/env bash
# Build modwsgi-test/selinux:13 (Debian 13 with its reference policy and setools)
# from the Debian 13 test image, which tests/images/build.sh makes. Cached by a
# tag derived from the Dockerfile and the base image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=modwsgi-test/debian:13
repo=modwsgi-test/selinux
tag="$repo:13-$({ cat "$here/Dockerfile"; docker image inspect --format '{{.Id}}' "$base"; } | sha256sum | cut -c1-12)"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "==> $repo:13 is up to date ($tag)"
else
  log=$(docker build -q -t "$tag" -f "$here/Dockerfile" "$here" 2>&1) || { echo "$log" >&2; exit 1; }
  echo "==> built $tag"
fi
docker tag "$tag" "$repo:13"
