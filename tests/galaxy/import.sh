#!/usr/bin/env bash
# import.sh VENV_BIN: build the collection tarball the way users get it and import it with
# galaxy-importer from VENV_BIN, the checks Galaxy runs on an upload. Quiet on success: one
# summary line, the full log in .cache/logs/galaxy-importer.log. Fails when the importer
# exits nonzero or logs an ERROR line, and on any WARNING line too: the importer logs
# ansible-lint's findings, and a check it had to skip, as warnings.
set -euo pipefail
bin=$1
root=$(pwd)
export PATH="$bin:$PATH"   # galaxy-importer finds ansible-doc and ansible-lint on PATH
export GALAXY_IMPORTER_CONFIG="$root/tests/galaxy/galaxy-importer.cfg"
mkdir -p .cache/logs
work=$(mktemp -d "$root/.cache/galaxy-import.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP="$work/ansible-tmp"
log=.cache/logs/galaxy-importer.log

if ! ansible-galaxy collection build --output-path "$work" . >"$log" 2>&1; then
  echo "galaxy-importer: ansible-galaxy collection build FAILED; $log:" >&2
  cat "$log" >&2
  exit 1
fi
tarball=$(ls "$work"/*.tar.gz)
rc=0
# importer_result.json lands in the working directory: run it in $work.
(cd "$work" && python -m galaxy_importer.main "$tarball") >"$log" 2>&1 || rc=$?

problems=$(grep -E '^(ERROR|WARNING)' "$log" || true)
if [ "$rc" -ne 0 ] || [ -n "$problems" ] || ! grep -q '^Importer processing completed successfully' "$log"; then
  echo "galaxy-importer: $(basename "$tarball") FAILED (exit $rc); $log:" >&2
  if [ -n "$problems" ]; then echo "$problems" >&2; else tail -n 20 "$log" >&2; fi
  exit 1
fi
version=$(python -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))')
contents=$(grep -c '^Loading ' "$log" || true)
echo "galaxy-importer $version: $(basename "$tarball") imported, $contents contents loaded, 0 errors, 0 warnings"
