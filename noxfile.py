"""The collection's tests on each ansible-core it supports (meta/runtime.yml), one nox session per version.

`make versions` runs the sessions of the versions that run on this machine's Python (2.16-2.18; 2.19 is the
.venv one, tested by `make unit sanity preflight`); the GitHub workflow runs the newer ones on the Python they
need. Each session's virtualenv (.cache/versions/envs) holds ansible-core and pytest as pinned in
tests/versions/ansible-core-<version>.txt and is reused while that file is unchanged. A session:

  * builds the collection with its ansible-galaxy and installs the tarball into .cache/versions/<version>/collections,
  * runs the unit tests (tests/unit), ansible-test sanity (tests/scripts/sanity.sh) and the preflight tests
    (tests/preflight), the last two against that installed copy.

The roles' dependencies (community.general, ansible.posix) are not installed again: the copies that the `ansible`
package brought into .venv (requirements-dev.txt) are put on ANSIBLE_COLLECTIONS_PATH, after checking that their
meta/runtime.yml admits the session's ansible-core. Galaxy is not needed.
"""

import os
import pathlib
import re
import subprocess
import sys

import nox
from packaging.specifiers import SpecifierSet

ROOT = pathlib.Path(__file__).resolve().parent
CACHE = ROOT / ".cache" / "versions"
REQUIREMENTS = ROOT / "tests" / "versions"
# ansible-core minor -> the Pythons it supports on the controller that this project tests it with.
VERSIONS = {"2.16": "3.11", "2.17": "3.11", "2.18": "3.11", "2.19": "3.11", "2.20": "3.12", "2.21": "3.13"}
DEPENDENCIES = ("community.general", "ansible.posix")
STEPS = ("unit", "sanity", "preflight")

nox.options.envdir = str(CACHE / "envs")
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
nox.options.sessions = []  # name the versions: `nox -s "versions(2.16)"`, or `make versions`


def dependency_collections():
    """.venv's site-packages, where the `ansible` package keeps its collections."""
    python = ROOT / ".venv" / "bin" / "python"
    path = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    return pathlib.Path(path)


def link_dependencies(session, site_packages, core_version):
    """A collections directory of links to .venv's copy of each dependency, after checking that its meta/runtime.yml
    admits this ansible-core (only these two: the `ansible` package's other collections would warn on older cores)."""
    links = CACHE / "dependencies"
    for name in DEPENDENCIES:
        source = site_packages.joinpath("ansible_collections", *name.split("."))
        runtime = source / "meta" / "runtime.yml"
        if not runtime.is_file():
            session.error("%s is not in %s: run `make venv`" % (name, site_packages))
        found = re.search(r"^requires_ansible:\s*[\"']?([^\"'\n]+)", runtime.read_text(encoding="utf-8"), re.MULTILINE)
        requires = found.group(1).strip() if found else ""
        if not SpecifierSet(requires).contains(core_version):
            session.error("%s requires ansible %s, not %s: install a matching version" % (name, requires, core_version))
        link = links.joinpath("ansible_collections", *name.split("."))
        if not (link.is_symlink() and link.resolve() == source.resolve()):
            link.parent.mkdir(parents=True, exist_ok=True)
            temporary = link.with_name(link.name + ".%d" % os.getpid())
            temporary.symlink_to(source, target_is_directory=True)
            temporary.replace(link)  # atomic: sessions running side by side may do this at the same time
    return links


def install(session, requirements):
    """pip install the requirements file once; later runs reuse the virtualenv while the file is unchanged."""
    stamp = pathlib.Path(session.virtualenv.location) / ".modwsgi-requirements"
    wanted = requirements.read_text(encoding="utf-8")
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted:
        return
    session.install("--disable-pip-version-check", "-q", "-r", str(requirements))
    stamp.write_text(wanted, encoding="utf-8")


def installed_core(session):
    return session.run(
        "python", "-c", "from ansible.release import __version__; print(__version__)", silent=True, external=True
    ).strip()


@nox.session(venv_backend="venv")
@nox.parametrize("ansible_core", list(VERSIONS), ids=list(VERSIONS))
def versions(session, ansible_core):
    """Unit tests, ansible-test sanity and the preflight tests on one ansible-core (posargs: steps to run)."""
    python = "%d.%d" % sys.version_info[:2]
    if python != VERSIONS[ansible_core]:
        # nox runs this file with the Python the sessions use: .cache/versions/nox is made with python3.
        session.error("ansible-core %s is tested on Python %s, this is %s" % (ansible_core, VERSIONS[ansible_core], python))
    steps = session.posargs or STEPS
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        session.error("unknown steps %s (choose from %s)" % (unknown, ", ".join(STEPS)))
    install(session, REQUIREMENTS / ("ansible-core-%s.txt" % ansible_core))
    core_version = installed_core(session)
    if not core_version.startswith(ansible_core + "."):
        session.error("the virtualenv has ansible-core %s, not %s" % (core_version, ansible_core))

    dependencies = link_dependencies(session, dependency_collections(), core_version)
    collections = CACHE / ansible_core / "collections"
    env = {
        "ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (collections, dependencies),
        "ANSIBLE_NOCOLOR": "1",
        "PY_COLORS": "0",
        # Each version's pytest cache apart from the others (sessions may run at the same time).
        "PYTEST_ADDOPTS": "-p no:cacheprovider",
    }
    session.run("tests/scripts/install-collection.sh", str(collections), env=env, external=True)
    workers = os.environ.get("MODWSGI_PYTEST_WORKERS", "2")
    if "unit" in steps:
        session.run("python", "-m", "pytest", "-q", "-n", workers, "tests/unit", env=env)
    if "sanity" in steps:
        session.run("tests/scripts/sanity.sh", env=env, external=True)
    if "preflight" in steps:
        session.run("python", "-m", "pytest", "-q", "-n", workers, "tests/preflight", env=env)
