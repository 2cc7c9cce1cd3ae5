#!/usr/bin/env bash
# Build the collection with ansible-galaxy and install the tarball into a fresh
# collections path (default .cache/collections). Galaxy is not needed: the
# dependencies come from the `ansible` package already installed.
set -euo pipefail
dest=${1:-.cache/collections}
build_dir=$(mktemp -d)
trap 'rm -rf "$build_dir"' EXIT
ansible-galaxy collection build --output-path "$build_dir" . >/dev/null
tarball=$(ls "$build_dir"/modwsgi-deploy-*.tar.gz)
rm -rf "$dest"
# --force: a copy installed elsewhere (~/.ansible/collections) must not make this a no-op.
ansible-galaxy collection install --offline --force -p "$dest" "$tarball" >/dev/null
echo "installed $(basename "$tarball") into $dest"
ANSIBLE_COLLECTIONS_PATH=$dest ansible-galaxy collection list modwsgi.deploy -p "$dest" 2>/dev/null | tail -n 1
