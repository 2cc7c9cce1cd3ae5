#!/usr/bin/env bash
# Run `ansible-test sanity` for this collection (called by `make sanity`).
#
# Works offline except for PyPI and the Debian mirrors:
#   * ansible-test only accepts a collection under .../ansible_collections/<ns>/<name>, so the
#     working tree (tracked + new untracked files, minus anything .gitignore'd) is copied to
#     .cache/sanity/ansible_collections/<ns>/<name> and tested there.
#   * ansible-test runs every sanity test in its own virtualenv (whatever --local/--venv say)
#     and bootstraps pip into each one with get-pip.py from ci-files.testing.ansible.com,
#     which is unreachable. We pre-seed ansible-test's get-pip cache with a stand-in that does
#     what get-pip.py does -- run pip from the pinned pip wheel (downloaded from PyPI) -- after
#     which ansible-test installs its own pinned sanity requirements (sanity.*.txt) from PyPI.
#   * HOME is pointed at .cache/sanity/ansible-core-<version>/home while ansible-test runs,
#     so those virtualenvs and the cache live in the repo (`make clean` removes them), are
#     reused by later runs and are rebuilt when ansible-core changes. Each ansible-core minor
#     (the .venv one, and those of `make versions`) keeps its own directory, copy of the
#     collection and log (last-run.log), so runs on different versions, at the same time or
#     one after the other, leave each other's environments alone; a new patch release
#     replaces the previous one of its minor.
#
# Quiet on success (one summary line); on any failure prints each problem ansible-test found
# (or its whole log if it broke) and exits non-zero. Extra arguments go to ansible-test
# (e.g. --test pep8, -v).
set -euo pipefail

# pslint needs PowerShell (pwsh), which is not packaged for Debian 12 and cannot be fetched
# from PyPI or the Debian mirrors. The collection ships no PowerShell code anyway.
SKIP_TESTS=(pslint)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

die() { echo "sanity: $*" >&2; exit 1; }

command -v ansible-test >/dev/null || die "ansible-test not found in PATH (run 'make venv' and put .venv/bin first)"
# The interpreter ansible-test runs under (the .venv one).
PY=$(dirname "$(command -v ansible-test)")/python
[[ -x $PY ]] || PY=$(command -v python3)
CORE_VERSION=$("$PY" -c 'from ansible.release import __version__; print(__version__)')
CORE_MINOR=$(cut -d. -f1,2 <<<"$CORE_VERSION")
# ansible-test runs the tests on the Python it runs under (2.16-2.19: 3.11 here; 2.20: 3.12, 2.21: 3.13).
PYTHON_VERSION=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

NAMESPACE=$(sed -n 's/^namespace: *//p' galaxy.yml | tr -d "\"' ")
NAME=$(sed -n 's/^name: *//p' galaxy.yml | tr -d "\"' ")
[[ -n $NAMESPACE && -n $NAME ]] || die "cannot read namespace/name from galaxy.yml"

CACHE=$ROOT/.cache/sanity
STATE=$CACHE/ansible-core-$CORE_VERSION
TEST_HOME=$STATE/home
DEST=$STATE/ansible_collections/$NAMESPACE/$NAME
LOG=$STATE/last-run.log
mkdir -p "$STATE" "$TEST_HOME"

# Drop the environments of other patch releases of this minor, and those of the layout
# before per-version directories (one shared copy of the collection).
for old in "$CACHE/ansible-core-$CORE_MINOR".*; do
  [[ $old == "$STATE" ]] || rm -rf "$old"
done
rm -rf "$CACHE/ansible_collections" "$CACHE/last-run.log"

# --- shellcheck (the shellcheck sanity test skips itself when it is missing) -------------
"$ROOT/tests/scripts/ensure-shellcheck.sh"

# --- pip bootstrap stand-in ---------------------------------------------------------------
PIP_VERSION=$("$PY" - "$PYTHON_VERSION" <<'EOF'
import sys
from types import SimpleNamespace
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(SimpleNamespace(version=sys.argv[1]))['pip'])
EOF
)
PIP_DIR=$STATE/pip-$PIP_VERSION
if [[ ! -f $PIP_DIR/.complete ]]; then
  rm -rf "$PIP_DIR" "$PIP_DIR.download"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$PIP_DIR.download" "pip==$PIP_VERSION" >"$LOG" 2>&1 ||
    { cat "$LOG" >&2; die "could not download pip==$PIP_VERSION from PyPI"; }
  "$PY" - "$PIP_DIR.download/pip-$PIP_VERSION"-*.whl "$PIP_DIR" <<'EOF'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
EOF
  rm -rf "$PIP_DIR.download"
  touch "$PIP_DIR/.complete"
fi
GET_PIP=$TEST_HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py
mkdir -p "${GET_PIP%/*}"
cat >"$GET_PIP.tmp" <<EOF
# Stand-in for https://ci-files.testing.ansible.com/ansible-test/get-pip-$PIP_VERSION.py, written by
# tests/scripts/sanity.sh. Like get-pip.py it runs pip $PIP_VERSION (here the wheel from PyPI,
# unpacked) to install the requested packages into the interpreter running this script.
import runpy
import sys

sys.path.insert(0, "$PIP_DIR")
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install", "--upgrade", "--force-reinstall"] + args
runpy.run_module("pip", run_name="__main__", alter_sys=True)
EOF
mv "$GET_PIP.tmp" "$GET_PIP"

# --- copy the collection -------------------------------------------------------------------
rm -rf "$DEST"
mkdir -p "$DEST"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and new (not ignored) files as they are on disk; skips deleted files.
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      case $f in .venv | .venv/* | .cache/* | tests/output/*) continue ;; esac  # .venv may be a symlink
      if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi
    done |
    tar -C "$ROOT" --null --no-recursion -T - -cf - | tar -C "$DEST" -xf -
else
  tar -C "$ROOT" --exclude=./.git --exclude=./.venv --exclude=./.cache --exclude=./.ansible \
    --exclude=./tests/output --exclude=__pycache__ --exclude=.pytest_cache --exclude='*.pyc' \
    --exclude='*.tar.gz' -cf - . | tar -C "$DEST" -xf -
fi

# --- run -----------------------------------------------------------------------------------
skip_args=()
for t in "${SKIP_TESTS[@]}"; do skip_args+=(--skip-test "$t"); done

start=$SECONDS
rc=0
(
  cd "$DEST"
  # Keep the user's pip configuration (index mirror, proxy, cache) despite the HOME change.
  if [[ -z ${PIP_CONFIG_FILE:-} && -z ${XDG_CONFIG_HOME:-} ]]; then
    for f in "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf"; do
      if [[ -f $f ]]; then export PIP_CONFIG_FILE=$f; break; fi
    done
  fi
  export PIP_CACHE_DIR=${PIP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pip}
  # ANSIBLE_TEST_CONTENT_ROOT stops ansible-test from walking up to this repo's .git (which
  # ignores .cache/ and would make the copy look empty).
  export HOME=$TEST_HOME ANSIBLE_TEST_CONTENT_ROOT=$DEST
  exec ansible-test sanity --local --python "$PYTHON_VERSION" --color no --junit \
    "${skip_args[@]}" "$@"
) >"$LOG" 2>&1 || rc=$?
elapsed=$((SECONDS - start))

# One line per test from the junit results: ran / skipped (with reason) / failed.
summary=$("$PY" - "$DEST/tests/output/junit" <<'EOF'
import glob, os, sys
import xml.etree.ElementTree as ET
passed, skipped, failed = [], [], []
for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.xml'))):
    for case in ET.parse(path).iter('testcase'):
        name = case.get('name')
        if case.find('failure') is not None or case.find('error') is not None:
            failed.append(name)
        elif (s := case.find('skipped')) is not None:
            reason = (s.get('message') or s.text or '').strip()
            skipped.append(f'{name} ({reason})' if reason and reason != 'No tests applicable.' else f'{name} (no files to test)')
        else:
            passed.append(name)
print(f'{len(passed)} passed: {" ".join(passed) or "-"}; '
      f'{len(skipped)} skipped: {", ".join(skipped) or "-"}; '
      f'{len(failed)} failed: {" ".join(failed) or "-"}')
EOF
) || summary="(no junit results)"

if [[ $rc -ne 0 ]]; then
  if [[ $summary == *" 0 failed:"* || $summary == "(no junit results)" ]]; then
    cat "$LOG" >&2  # ansible-test itself broke: show everything
  else
    # ansible-test's messages (each problem is an ERROR: line), without the pip install chatter.
    awk '/^WARNING: Using locale/ {next} /^(ERROR|WARNING):/ {print; next} /^FATAL:/ {f=1} f' "$LOG" >&2
  fi
  echo "sanity: full log in ${LOG#"$ROOT"/}" >&2
  echo "sanity: FAILED (exit $rc, ${elapsed}s) -- $summary; not run: ${SKIP_TESTS[*]} (see tests/scripts/sanity.sh)" >&2
  exit "$rc"
fi
echo "sanity: OK (${elapsed}s, ansible-core $CORE_VERSION, Python $PYTHON_VERSION) -- $summary; not run: ${SKIP_TESTS[*]}"
