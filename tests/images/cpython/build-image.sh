#!/usr/bin/env bash
# Build modwsgi-test/cpython:3.13: the Debian 12 test image (tests/images/build.sh)
# with CPython 3.13 built from source into /usr/local (see Dockerfile), cached.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../build-derived.sh" "$here" modwsgi-test/debian:12 modwsgi-test/cpython 3.13 \
  "CPython from source, a few minutes"
