# Developer entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/.cache/collections
TIMED := tests/scripts/timed.sh

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export MOLECULE_GLOB := molecule/*/molecule.yml
export PY_COLORS := 0
export ANSIBLE_NOCOLOR := 1

# Every Molecule scenario, in the order `make test` runs them.
SCENARIOS := server server_pip app real_apps multi_app rollback zero_downtime fleet

.PHONY: help venv docker images collection lint unit sanity preflight versions selinux molecule test clean demo demo-clean docs docs-lint docs-venv

help:
	@echo "make demo        deploy the Flask example into a local container, http://127.0.0.1:8080/"
	@echo "make demo-clean  remove the demo container"
	@echo "make bench-zero-downtime  ten releases under wrk load, bench/results/zero_downtime.md"
	@echo "make bench-throughput  mod_wsgi (role defaults) vs gunicorn, nginx and a static file; bench/results/throughput.md"
	@echo "make bench-deploy  the roles' converge, re-runs (one app, four) and code-only release vs a plain playbook (bench/results/deploy.md)"
	@echo "make test        lint, docs site, unit tests, sanity, collection build, preflight, other ansible-core versions, every Molecule scenario"
	@echo "make lint        yamllint + ansible-lint (production profile) + antsibull-changelog lint + docs-lint + galaxy-importer"
	@echo "make galaxy-import  galaxy-importer on the built tarball, in its own venv (.cache/galaxy-importer)"
	@echo "make docs-lint   antsibull-docs lint-collection-docs --plugin-docs (docs venv in .cache/docs-venv)"
	@echo "make docs        the collection's docs site (antsibull-docs + Sphinx) in .cache/docs/site/build/html"
	@echo "make unit        pytest: plugins, role READMEs against argument_specs, tarball contents, doc links"
	@echo "make sanity      ansible-test sanity for the plugins"
	@echo "make preflight   bad input fails before anything changes"
	@echo "make versions    unit, sanity and preflight on the other ansible-core versions this Python runs ($(VERSIONS))"
	@echo "make selinux     the roles' SELinux labels against a real policy, offline (Debian's refpolicy; Fedora's rules as a fixture)"
	@echo "make molecule    the Molecule scenarios (needs Docker; builds the test images)"
	@echo "make scenario-X  one Molecule scenario: $(SCENARIOS)"
	@echo "make images      build the Debian 12/13 systemd test images, and Debian 12 with CPython 3.13 built from source"
	@echo "make collection  build the collection tarball and install it into .cache/collections"

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

docker:
	tests/scripts/ensure-docker.sh

images: docker
	tests/images/build.sh 12 13
	tests/images/cpython/build-image.sh

# Every scenario runs the collection exactly as users get it: built with
# ansible-galaxy, installed from the tarball, used by FQCN.
collection: venv
	tests/scripts/install-collection.sh $(COLLECTIONS)

lint: venv changelog-lint docs-lint
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --profile production
	@$(MAKE) --no-print-directory galaxy-import

# galaxy-importer on the built tarball, as Galaxy runs it on an upload (tests/galaxy):
# in its own venv, from a pinned requirements file, because it needs older packages than
# the dev venv's.
GALAXY_VENV := .cache/galaxy-importer
$(GALAXY_VENV)/.installed: tests/galaxy/requirements.txt
	rm -rf $(GALAXY_VENV)
	python3 -m venv $(GALAXY_VENV)
	$(GALAXY_VENV)/bin/pip install -q -r tests/galaxy/requirements.txt
	touch $@

.PHONY: galaxy-import
galaxy-import: $(GALAXY_VENV)/.installed
	@tests/galaxy/import.sh $(CURDIR)/$(GALAXY_VENV)/bin

# The docs tools (antsibull-docs, Sphinx) live in a venv of their own, from the
# pinned docs/requirements.txt; it is made again only when that file changes.
DOCS_VENV := .cache/docs-venv

$(DOCS_VENV)/.installed: docs/requirements.txt
	rm -rf $(DOCS_VENV)
	python3 -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/pip install -q --upgrade pip
	$(DOCS_VENV)/bin/pip install -q -r docs/requirements.txt
	touch $@

docs-venv: $(DOCS_VENV)/.installed

# The collection's docs: config, links, extra docs (docs/docsite) and every plugin's
# and role's documentation and markup (tests/scripts/docs.sh).
docs-lint: venv docs-venv
	tests/scripts/docs.sh lint

# The docs site, as it would be published: fails on any warning the collection causes.
docs: venv docs-venv
	tests/scripts/docs.sh build

# The changelog fragments (changelogs/fragments/*.yml) in the form antsibull-changelog releases.
.PHONY: changelog-lint
changelog-lint: venv
	$(BIN)/antsibull-changelog lint

unit: venv
	$(BIN)/python -m pytest -q -n auto tests/unit

sanity: venv
	tests/scripts/sanity.sh

# Bad input and unsupported systems fail before anything changes (controller, check mode).
preflight: collection
	$(BIN)/python -m pytest -q -n auto tests/preflight

# The other ansible-core versions that meta/runtime.yml admits and this machine's Python 3.11 runs
# (the .venv one, 2.19, is what unit, sanity and preflight test): one nox session each (noxfile.py),
# side by side, in virtualenvs under .cache/versions. The GitHub workflow adds 2.20 and 2.21.
VERSIONS := 2.16 2.17 2.18
NOX_VENV := .cache/versions/nox

$(NOX_VENV)/.installed: tests/versions/nox.txt
	python3 -m venv $(NOX_VENV)
	$(NOX_VENV)/bin/pip install -q --disable-pip-version-check -r tests/versions/nox.txt
	touch $@

versions: venv $(NOX_VENV)/.installed
	tests/scripts/versions.sh $(VERSIONS)

# SELinux cannot run here; the roles' file-context rules are checked against
# Debian's compiled reference policy in a container (tests/selinux).
selinux: venv docker
	@tests/images/build.sh 13
	tests/selinux/build-image.sh
	$(BIN)/python -m pytest -q tests/selinux

# make scenario-<name> runs one scenario (see SCENARIOS).
scenario-%: collection images
	tests/scripts/run-scenario.sh $*

molecule: $(addprefix scenario-,$(SCENARIOS))

test: venv
	@rm -f .cache/timings
	@fail=0; \
	for step in lint docs unit sanity collection preflight versions images selinux $(addprefix scenario-,$(SCENARIOS)); do \
	  $(TIMED) "$$step" $(MAKE) --no-print-directory $$step || fail=1; \
	done; \
	echo; echo "Summary (step, result, seconds):"; cat .cache/timings; \
	echo "$$(grep -c ' passed ' .cache/timings) passed, $$(grep -c ' FAILED ' .cache/timings) failed"; \
	exit $$fail

# The main job: the example Flask app deployed by modwsgi.deploy.site into a
# local systemd container, answering on 127.0.0.1:8080. Re-running changes nothing.
DEMO_URL := http://127.0.0.1:8080/

demo: collection docker
	@tests/images/build.sh 13
	@tests/scripts/demo-container.sh start
	ANSIBLE_PIPELINING=1 ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_CALLBACK_RESULT_FORMAT=yaml \
	  $(BIN)/ansible-playbook -i examples/inventory/demo.yml modwsgi.deploy.site
	@$(BIN)/python tests/scripts/show-demo.py $(DEMO_URL)

demo-clean:
	@tests/scripts/demo-container.sh remove

# Benchmarks (bench/): each writes bench/results/<name>.md and reports its
# targets as met or missed; a missed target is not a failure (not in make test).
.PHONY: bench-zero-downtime bench-deploy bench-throughput
bench-zero-downtime: collection docker
	@tests/images/build.sh 13
	bench/zero_downtime/run.sh

# Deploy speed against a plain playbook of the Flask guide's steps (bench/plain),
# on fresh containers named modwsgi-bench-deploy*: writes bench/results/deploy.md
# (see bench/deploy).
bench-deploy: collection docker
	@tests/images/build.sh 13
	bench/deploy

# Requests/s and latency of the app role's defaults against the source guide's
# configuration, gunicorn, nginx + gunicorn and a static file, in one Debian 13
# container (removed afterwards unless MODWSGI_BENCH_KEEP=1). Writes
# bench/results/throughput.md; a missed target is reported, not a failure.
bench-throughput: collection docker
	@tests/images/build.sh 13
	bench/throughput/run

clean:
	rm -rf .cache $(VENV) tests/output
