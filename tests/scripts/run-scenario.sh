#!/usr/bin/env bash
# Run one Molecule scenario step by step: create, prepare, a first `--check` run
# that must succeed on the unconverged host, converge, idempotence, a
# `--check --diff` run that must change nothing, verify, side effect, destroy.
# Usage: run-scenario.sh SCENARIO
set -euo pipefail
scenario=$1
here=$(cd "$(dirname "$0")" && pwd)
log_dir=${MODWSGI_LOG_DIR:-.cache/logs}
mkdir -p "$log_dir"
# Absolute, for the verify step's tests that read these logs (tests/security).
MODWSGI_LOG_DIR=$(cd "$log_dir" && pwd)
export MODWSGI_LOG_DIR
log_dir=$MODWSGI_LOG_DIR

target=(-s "$scenario" --no-command-borders)
# MODWSGI_PLATFORMS=registry adds the official-image platforms (needs a registry).
base=()
if [ "${MODWSGI_PLATFORMS:-local}" = registry ]; then
  base=(-c .config/molecule/config.yml -c .config/molecule/registry.yml)
fi
molecule() { command molecule "${base[@]}" "$@"; }

step() {
  echo "--- [$scenario] $1"
  shift
  "$@"
}

cleanup() { molecule destroy "${target[@]}" >/dev/null 2>&1 || true; }
trap cleanup EXIT

start=$(date +%s)
step destroy molecule destroy "${target[@]}" >/dev/null
step create molecule create "${target[@]}"
step prepare molecule prepare "${target[@]}"
step "check before converge (must succeed)" molecule converge "${target[@]}" -- --check
# At -vvv and with diffs, as people run a play that went wrong: the log keeps all
# of it (the verify step's tests/security and secret tests read it for secrets),
# the console the task lines, results and recap.
converge_log="$log_dir/$scenario-converge.log"
converge_verbose() {
  local rc=0
  molecule converge "${target[@]}" -- -vvv --diff > "$converge_log" 2>&1 || rc=$?
  grep -E '^(PLAY|TASK|RUNNING|ok:|changed:|fatal:|failed:|included:|skipping:|[^ ].*: ok=|\[ERROR\]|\[WARNING\])' \
    "$converge_log" | cut -c1-300 || true
  if [ "$rc" != 0 ]; then tail -n 150 "$converge_log"; fi
  return "$rc"
}
step "converge (-vvv --diff; full log in $converge_log)" converge_verbose
step idempotence molecule idempotence "${target[@]}"
check_log="$log_dir/$scenario-check.log"
step "check (--check --diff must report changed=0)" \
  bash -o pipefail -c 'molecule converge "$@" -- --check --diff 2>&1 | tee "'"$check_log"'"' _ "${target[@]}"
python3 "$here/assert_no_changes.py" "$check_log"
step verify molecule verify "${target[@]}"
step side_effect molecule side-effect "${target[@]}"
step destroy molecule destroy "${target[@]}"
trap - EXIT
echo "=== scenario $scenario: passed in $(( $(date +%s) - start ))s"
