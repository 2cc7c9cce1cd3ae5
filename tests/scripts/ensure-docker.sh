#!/usr/bin/env bash
# Make sure a Docker engine answers. On a root Debian host without one, install
# docker.io and start dockerd in the background; anywhere else, say what is missing.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi

# shellcheck source=/dev/null
is_debian() { [ -r /etc/os-release ] && . /etc/os-release && { [ "${ID:-}" = debian ] || [ "${ID_LIKE:-}" = debian ]; }; }

if [ "$(id -u)" -ne 0 ] || ! is_debian; then
  cat >&2 <<MSG
No Docker engine answers 'docker info'.
The tests need one. Install and start Docker (https://docs.docker.com/engine/install/),
make sure your user may use it, and run the command again.
MSG
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "==> installing docker.io (no Docker engine found)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl start docker || true
fi
if ! docker info >/dev/null 2>&1; then
  echo "==> starting dockerd in the background (log: /var/log/dockerd-modwsgi.log)"
  nohup dockerd >/var/log/dockerd-modwsgi.log 2>&1 &
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "dockerd did not come up; see /var/log/dockerd-modwsgi.log" >&2
exit 1
