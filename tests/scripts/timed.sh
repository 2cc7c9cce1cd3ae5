#!/usr/bin/env bash
# timed.sh NAME CMD...: run CMD, print and record how long it took.
name=$1
shift
start=$(date +%s)
"$@"
rc=$?
secs=$(( $(date +%s) - start ))
status=$([ $rc -eq 0 ] && echo passed || echo FAILED)
printf '=== %-28s %-6s %4ds\n' "$name" "$status" "$secs"
mkdir -p .cache
printf '%-28s %-6s %4ds\n' "$name" "$status" "$secs" >>.cache/timings
exit $rc
