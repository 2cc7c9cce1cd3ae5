"""The collection tarball as `ansible-galaxy collection build` makes it, for the tests of what ships.

`build(source, dest)` runs the real ansible-galaxy (the one next to the Python running pytest, so the
.venv one under `make unit`) on a source tree; `shipped()` builds this checkout once per test run and
returns the tarball's path and its members.
"""

import atexit
import functools
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
ANSIBLE_GALAXY = pathlib.Path(sys.executable).with_name("ansible-galaxy")


def build(source, dest):
    """Build the collection in `source` into `dest`; the tarball's path."""
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(ANSIBLE_GALAXY), "collection", "build", "--force", "--output-path", str(dest), str(source)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarballs = list(dest.glob("modwsgi-deploy-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    return tarballs[0]


def members(tarball):
    """{name: TarInfo} of every member, directories without a trailing slash."""
    with tarfile.open(tarball) as tar:
        return {info.name.rstrip("/"): info for info in tar.getmembers()}


def read(tarball, name):
    with tarfile.open(tarball) as tar:
        return tar.extractfile(name).read().decode("utf-8")


@functools.lru_cache(maxsize=None)
def shipped():
    """(tarball, members) of this checkout, built once per test run."""
    dest = tempfile.mkdtemp(prefix="modwsgi-deploy-build-")
    # removed when the interpreter running pytest exits
    atexit.register(shutil.rmtree, dest, True)
    tarball = build(ROOT, dest)
    return tarball, members(tarball)


def copy_source(dest):
    """A copy of the checkout in `dest` without what is large and never shipped (.git, venvs, caches,
    tests, molecule, bench), to plant files in and build from."""
    skip = {".git", ".venv", ".cache", ".ansible", "tests", "molecule", "bench"}

    def ignore(directory, names):
        if os.path.samefile(directory, ROOT):
            return [name for name in names if name in skip or name.endswith(".tar.gz")]
        return []

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return pathlib.Path(dest)
