#!/usr/bin/env bash
# make bench-zero-downtime: the Flask example on a fresh Debian 13 container,
# then ten consecutive code-only releases while wrk loads it from inside the
# container. Writes bench/results/zero_downtime.md. A failed request is
# reported, not turned into an exit status; a broken harness is.
# MODWSGI_BENCH_KEEP=1 keeps the container.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
container=$root/tests/scripts/demo-container.sh
export MODWSGI_CONTAINER=modwsgi-bench-zero-downtime MODWSGI_DEMO_PORT=

cleanup() { [ -n "${MODWSGI_BENCH_KEEP:-}" ] || "$container" remove >/dev/null; }
trap cleanup EXIT
"$container" remove >/dev/null
"$container" start

mkdir -p "$root/bench/results"
ANSIBLE_PIPELINING=1 ANSIBLE_DISPLAY_SKIPPED_HOSTS=false \
  ansible-playbook -i "$here/inventory.yml" "$here/bench.yml" \
  -e "results_file=$root/bench/results/zero_downtime.md"
cat "$root/bench/results/zero_downtime.md"
