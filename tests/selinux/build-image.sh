#!/usr/bin/env bash
# Build modwsgi-test/selinux:13 (Debian 13 with its reference policy and setools)
# from the Debian 13 test image, which tests/images/build.sh makes, cached.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../images/build-derived.sh" "$here" modwsgi-test/debian:13 modwsgi-test/selinux 13
