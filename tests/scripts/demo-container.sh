#!/usr/bin/env bash
# The demo's target: a systemd container of the local Debian 13 test image,
# named modwsgi-demo, with port 80 published on 127.0.0.1:8080 only.
# The benchmarks start theirs the same way: MODWSGI_CONTAINER names it, and an
# empty MODWSGI_DEMO_PORT publishes nothing.
#   demo-container.sh start   create it, or start it again; wait for systemd
#   demo-container.sh remove  remove it
set -euo pipefail
name=${MODWSGI_CONTAINER:-modwsgi-demo}
image=modwsgi-test/debian:13
port=${MODWSGI_DEMO_PORT-8080}

case "${1:-}" in
  start)
    if [ -z "$(docker ps -aq --filter "name=^${name}\$")" ]; then
      publish=()
      if [ -n "$port" ]; then
        echo "==> starting container $name ($image), http://127.0.0.1:$port/ -> its port 80"
        publish=(-p "127.0.0.1:$port:80")
      else
        echo "==> starting container $name ($image)"
      fi
      docker run -d --name "$name" --hostname "$name" \
        --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
        -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
        "${publish[@]}" \
        "$image" /lib/systemd/systemd >/dev/null
    elif [ "$(docker inspect -f '{{.State.Running}}' "$name")" != true ]; then
      echo "==> starting the existing container $name"
      docker start "$name" >/dev/null
    fi
    # systemd must be up before Ansible starts services in it.
    for _ in $(seq 1 60); do
      state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
      case "$state" in running | degraded) exit 0 ;; esac
      sleep 1
    done
    echo "systemd in $name did not come up (state: ${state:-unknown}); see: docker logs $name" >&2
    exit 1
    ;;
  remove)
    docker rm -f "$name" >/dev/null 2>&1 || true
    echo "==> removed container $name"
    ;;
  *)
    echo "usage: $0 start|remove" >&2
    exit 2
    ;;
esac
