#!/usr/bin/env bash
# versions.sh MINOR...: the nox session of each ansible-core minor (noxfile.py), side by side, each
# with its log in .cache/versions/<minor>.log. Prints one line per version (result, seconds) and
# the log of each one that failed; exits non-zero if any failed. Called by `make versions`.
#   MODWSGI_VERSIONS_PARALLEL=0   one version after the other
#   MODWSGI_PYTEST_WORKERS=N      pytest-xdist workers per session (default 1 side by side, 2 one by one)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
NOX=${NOX:-.cache/versions/nox/bin/nox}
[[ $# -gt 0 ]] || { echo "usage: $0 MINOR..." >&2; exit 2; }
mkdir -p .cache/versions
# Once, before the sessions: they would otherwise race for apt-get's lock.
tests/scripts/ensure-shellcheck.sh || exit 1

parallel=${MODWSGI_VERSIONS_PARALLEL:-1}
if [[ $parallel == 1 ]]; then
  export MODWSGI_PYTEST_WORKERS=${MODWSGI_PYTEST_WORKERS:-1}
else
  export MODWSGI_PYTEST_WORKERS=${MODWSGI_PYTEST_WORKERS:-2}
fi

run() {  # run MINOR: one session, its log, its line in .cache/versions/<minor>.result
  local start=$SECONDS rc=0
  "$NOX" --no-color -s "versions($1)" >".cache/versions/$1.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start))" >".cache/versions/$1.result"
}

start=$SECONDS
pids=()
for minor in "$@"; do
  rm -f ".cache/versions/$minor.result"
  if [[ $parallel == 1 ]]; then run "$minor" & pids+=($!); else run "$minor"; fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

fail=0
for minor in "$@"; do
  read -r rc secs <".cache/versions/$minor.result" 2>/dev/null || { rc=1; secs="?"; }
  if [[ $rc == 0 ]]; then
    summary=$(grep -E '^[0-9]+ passed|^sanity: OK' ".cache/versions/$minor.log" | sed 's/ --.*//' | paste -sd ';' -)
    printf 'ansible-core %-5s passed %4ss  %s\n' "$minor" "$secs" "$summary"
  else
    fail=1
    echo "=== ansible-core $minor: log (.cache/versions/$minor.log)"
    tail -n 80 ".cache/versions/$minor.log"
    printf 'ansible-core %-5s FAILED %4ss\n' "$minor" "$secs"
  fi
done
echo "versions: $# ansible-core versions in $((SECONDS - start))s ($([[ $parallel == 1 ]] && echo "side by side" || echo "one by one"))"
exit $fail
