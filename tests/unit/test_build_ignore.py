"""The tarball ships what users need, and none of the development files (galaxy.yml's build_ignore).

Built with the real `ansible-galaxy collection build`: once from this checkout, and once from a copy
with caches planted at every depth, since build_ignore patterns are matched against the path from the
collection root and a plain name only matches at the top.
"""

import fnmatch

import pytest
import yaml

from ansible_collections.modwsgi.deploy.tests.unit.collection_build import ROOT, build, copy_source, members, shipped

# What users get: the docs, the roles, the plugins, the playbooks, the working examples.
MUST_SHIP = [
    "README.md", "COPYING", "CHANGELOG.rst", "CONTRIBUTING.md", "SECURITY.md", "meta/runtime.yml",
    "roles/server/README.md", "roles/app/README.md",
    "roles/server/meta/argument_specs.yml", "roles/app/meta/argument_specs.yml",
    "playbooks/site.yml", "playbooks/deploy.yml", "playbooks/rollback.yml",
    "plugins/modules/wsgi_check.py", "docs/architecture.md",
    "examples/README.md", "examples/inventory/demo.yml", "examples/flask_app/hello/__init__.py",
    "changelogs/changelog.yaml", "changelogs/config.yaml",
]

# Development files, at the top level or anywhere below it.
NEVER_SHIP = [
    ".ansible-lint", ".yamllint", ".gitignore", "*/.gitignore",
    "changelogs/.plugin-cache.yaml", "changelogs/fragments", "changelogs/fragments/*",
    "examples/import_error", "examples/import_error/*", "examples/unguarded_run", "examples/unguarded_run/*",
    "tests", "tests/*", "molecule", "molecule/*", "bench", "bench/*", ".github", ".github/*", ".ci", ".ci/*",
    ".config", ".config/*", "Makefile", "requirements-dev.txt", "execution-environment.yml",
    "importer_result.json", "*.tar.gz", "*.pyc",
]

CACHES = [".pytest_cache", ".cache", "__pycache__", ".mypy_cache", ".ruff_cache", ".ansible"]


def leaked(names):
    return sorted(name for name in names if any(fnmatch.fnmatch(name, pattern) for pattern in NEVER_SHIP)
                  or any(part in CACHES for part in name.split("/")))


def test_the_tarball_ships_what_users_need():
    names = shipped()[1]
    assert [name for name in MUST_SHIP if name not in names] == []


def test_the_tarball_ships_no_development_files():
    names = shipped()[1]
    assert leaked(names) == []


def test_the_broken_examples_stay_in_the_repository():
    # molecule/rollback/side_effect.yml deploys them from the checkout, not from the tarball.
    scenario = (ROOT / "molecule" / "rollback" / "side_effect.yml").read_text(encoding="utf-8")
    for example in ["import_error", "unguarded_run"]:
        assert (ROOT / "examples" / example).is_dir(), example
        assert "/%s" % example in scenario, example


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A copy of the checkout with a cache directory of each kind at the top, one level down and
    three levels down, built; the tarball's members."""
    source = copy_source(tmp_path_factory.mktemp("source") / "deploy")
    for cache in CACHES:
        for parent in ["", "roles/app", "examples/real_apps/blog/blog"]:
            directory = source / parent / cache if parent else source / cache
            (directory / "sub").mkdir(parents=True, exist_ok=True)
            (directory / "sub" / "stale.txt").write_text("x", encoding="utf-8")
    (source / "plugins" / "modules" / "stale.pyc").write_bytes(b"")
    (source / "docs" / ".gitignore").write_text("*\n", encoding="utf-8")
    (source / "importer_result.json").write_text("{}", encoding="utf-8")
    return members(build(source, tmp_path_factory.mktemp("build")))


def test_nested_caches_do_not_ship(planted):
    assert leaked(planted) == []
    # The planted copy still ships the same documents as the checkout.
    assert [name for name in MUST_SHIP if name not in planted] == []


def test_build_ignore_patterns_are_strings():
    # YAML would read an unquoted `*/x` as an alias; every pattern must be a plain string.
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert all(isinstance(pattern, str) for pattern in galaxy["build_ignore"])
