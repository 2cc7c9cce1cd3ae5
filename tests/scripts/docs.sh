#!/usr/bin/env bash
# make docs-lint / make docs: antsibull-docs and Sphinx from .cache/docs-venv
# (docs/requirements.txt), never from the dev venv.
#
#   docs.sh lint   antsibull-docs lint-collection-docs --plugin-docs: the docs config, links,
#                  extra docs and every plugin's and role's documentation and markup, with
#                  references to ansible.builtin and the dependencies checked against them
#   docs.sh build  the collection's docs site into .cache/docs/site/build/html; fails on any
#                  Sphinx warning except those that only say an intersphinx inventory on the
#                  network (docs.python.org, docs.ansible.com, ...) could not be fetched, and
#                  the references into the Ansible docs that such an inventory would resolve
#                  (links to other collections are validated by `docs.sh lint`)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
docs_bin=$root/.cache/docs-venv/bin
dev_python=$root/.venv/bin/python

# A collections tree for the docs tools: this checkout, and the dependencies from the
# `ansible` package of the dev venv (galaxy.yml: community.general, ansible.posix).
collections=$root/.cache/docs/collections
mkdir -p "$collections/ansible_collections/modwsgi" "$collections/ansible_collections/community" \
  "$collections/ansible_collections/ansible"
ln -sfn "$root" "$collections/ansible_collections/modwsgi/deploy"
site_packages=$("$dev_python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
for dep in community/general ansible/posix; do
  ln -sfn "$site_packages/ansible_collections/$dep" "$collections/ansible_collections/$dep"
done
export ANSIBLE_COLLECTIONS_PATH=$collections
export PATH=$docs_bin:$PATH
export ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=0 PYTHONWARNINGS=ignore::DeprecationWarning

case ${1:-} in
lint)
  # lint-collection-docs copies the git-tracked files only: run it on a tree where new
  # files are added (git add) or committed.
  antsibull-docs lint-collection-docs --plugin-docs .
  ;;
build)
  site=$root/.cache/docs/site
  rm -rf "$site"
  mkdir -p "$site"
  antsibull-docs sphinx-init --use-current --fail-on-error --squash-hierarchy \
    --project modwsgi.deploy --copyright "modwsgi.deploy contributors" --title "modwsgi.deploy" \
    --dest-dir "$site" modwsgi.deploy >/dev/null
  # An unreachable intersphinx inventory costs seconds, not minutes.
  echo 'intersphinx_timeout = 5' >>"$site/conf.py"
  mkdir -p "$site/rst"
  antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --cleanup everything --fail-on-error \
    --use-current --squash-hierarchy --dest-dir "$site/rst" modwsgi.deploy >/dev/null
  warnings=$site/sphinx-warnings.log
  if ! sphinx-build -q -b html -c "$site" -w "$warnings" --keep-going \
    "$site/rst" "$site/build/html" 2>"$site/sphinx-stderr.log"; then
    cat "$site/sphinx-stderr.log" >&2
    exit 1
  fi
  # Continuation lines of a warning start without a path or WARNING: join them to their warning.
  unexpected=$(python3 - "$warnings" <<'PY'
import re, sys
entries = []
for line in open(sys.argv[1], encoding="utf-8"):
    if entries and not re.match(r"^(\S+:\d*: )?(WARNING|ERROR|CRITICAL|SEVERE)", line):
        entries[-1] += line
    elif line.strip():
        entries.append(line)
offline = re.compile(r"WARNING: failed to reach any of the inventories with the following issues:\n"
                     r"(intersphinx inventory '[^']+' not (fetchable|readable) due to .*\n?)+\Z")
external = re.compile(r"^\S+: WARNING: undefined label: '(ansible_collections\.(?!modwsgi\.deploy\.)[\w.-]+"
                      r"|common_return_values|ansible_configuration_settings)' \[ref\.ref\]\n?\Z")
for entry in entries:
    if not (offline.match(entry) or external.match(entry)):
        sys.stdout.write(entry)
PY
)
  if [ -n "$unexpected" ]; then
    echo "Sphinx warnings caused by the collection's docs:" >&2
    echo "$unexpected" >&2
    exit 1
  fi
  test -s "$site/build/html/index.html"
  echo "docs site: $site/build/html/index.html"
  ;;
*)
  echo "usage: $0 lint|build" >&2
  exit 2
  ;;
esac
