#!/usr/bin/env bash
# Install shellcheck with apt-get (root on Debian) for ansible-test's shellcheck sanity test,
# which skips itself when shellcheck is missing. Called by sanity.sh, and once by `make
# versions` before its sessions run sanity.sh side by side (apt-get takes a lock).
set -euo pipefail
command -v shellcheck >/dev/null && exit 0
if [[ $(id -u) == 0 && -f /etc/debian_version ]] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; } ||
    { echo "sanity: could not install shellcheck with apt-get" >&2; exit 1; }
else
  echo "sanity: WARNING: shellcheck is not installed; the shellcheck sanity test will be skipped" >&2
fi
