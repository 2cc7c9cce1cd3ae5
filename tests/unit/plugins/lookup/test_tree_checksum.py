# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import socket
import stat

import pytest
import yaml

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader

from ansible_collections.modwsgi.deploy.plugins.lookup import tree_checksum
from ansible_collections.modwsgi.deploy.plugins.lookup.tree_checksum import DEFAULT_EXCLUDE, LookupModule


PLUGIN_NAME = 'modwsgi.deploy.tree_checksum'


def make_lookup(loader=None):
    """A LookupModule set up like ansible's plugin loader does: options registered from DOCUMENTATION."""
    if not C.config.has_configuration_definition('lookup', PLUGIN_NAME):
        options = yaml.safe_load(tree_checksum.DOCUMENTATION)['options']
        C.config.initialize_plugin_configuration_definitions('lookup', PLUGIN_NAME, options)
    plugin = LookupModule(loader=loader or DataLoader())
    plugin._load_name = PLUGIN_NAME
    return plugin


def lookup(*terms, **kwargs):
    return make_lookup().run(list(terms), variables={}, **kwargs)


def digest(path, **kwargs):
    result = lookup(str(path), **kwargs)
    assert len(result) == 1
    return result[0]


def write(path, content=b'', mode=None):
    path = str(path)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    with open(path, 'wb') as handle:
        handle.write(content)
    if mode is not None:
        os.chmod(path, mode)


def make_tree(root):
    """A small application tree with a bit of everything."""
    root = str(root)
    write(os.path.join(root, 'app.py'), b'from flask import Flask\napp = Flask(__name__)\n', 0o644)
    write(os.path.join(root, 'wsgi.py'), b'from app import app as application\n', 0o644)
    write(os.path.join(root, 'manage.sh'), b'#!/bin/sh\nexec python app.py\n', 0o755)
    write(os.path.join(root, 'pkg', '__init__.py'), b'', 0o644)
    write(os.path.join(root, 'pkg', 'views.py'), b'def index():\n    return "hi"\n', 0o644)
    write(os.path.join(root, 'static', 'css', 'site.css'), b'body { margin: 0 }\n', 0o644)
    os.makedirs(os.path.join(root, 'var', 'empty'))
    os.symlink('app.py', os.path.join(root, 'main.py'))
    os.symlink('static', os.path.join(root, 'assets'))
    return root


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / 'src')


# ---------------------------------------------------------------------------
# single files
# ---------------------------------------------------------------------------

def test_file_equals_sha256_of_content(tmp_path):
    content = os.urandom(3 * tree_checksum.CHUNK_SIZE + 17)
    write(tmp_path / 'big.bin', content)
    assert digest(tmp_path / 'big.bin') == hashlib.sha256(content).hexdigest()


def test_empty_file(tmp_path):
    write(tmp_path / 'empty')
    assert digest(tmp_path / 'empty') == hashlib.sha256(b'').hexdigest()


def test_file_ignores_exclude_and_mode(tmp_path):
    write(tmp_path / 'x.pyc', b'data', 0o755)
    expected = hashlib.sha256(b'data').hexdigest()
    assert digest(tmp_path / 'x.pyc') == expected
    assert digest(tmp_path / 'x.pyc', exclude=['*']) == expected


def test_symlink_given_as_term_is_followed(tmp_path, tree):
    write(tmp_path / 'file', b'data')
    os.symlink(str(tmp_path / 'file'), str(tmp_path / 'file-link'))
    os.symlink(tree, str(tmp_path / 'tree-link'))
    assert digest(tmp_path / 'file-link') == hashlib.sha256(b'data').hexdigest()
    assert digest(tmp_path / 'tree-link') == digest(tree)


# ---------------------------------------------------------------------------
# directories: what does not count
# ---------------------------------------------------------------------------

def test_digest_is_hex_sha256(tree):
    value = digest(tree)
    assert len(value) == 64
    assert int(value, 16) >= 0
    assert value == value.lower()
    assert value != hashlib.sha256(b'').hexdigest()


def test_same_tree_elsewhere_gives_same_digest(tmp_path, tree):
    other = make_tree(tmp_path / 'deeper' / 'location' / 'copy')
    assert digest(tree) == digest(other)
    # shutil.copytree creates the entries in another order and with other inode numbers.
    copied = str(tmp_path / 'copied')
    shutil.copytree(tree, copied, symlinks=True)
    assert digest(copied) == digest(tree)


def test_creation_order_does_not_matter(tmp_path):
    first = tmp_path / 'first'
    second = tmp_path / 'second'
    names = ['b', 'a', 'c', 'B', 'a0', 'a.b']
    for name in names:
        write(first / name, name.encode())
    for name in reversed(names):
        write(second / name, name.encode())
    assert digest(first) == digest(second)


def test_mtime_does_not_matter(tree):
    before = digest(tree)
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.utime(path, (1000000000, 1000000000))
    os.utime(tree, (1000000000, 1000000000))
    assert digest(tree) == before


def test_non_execute_permission_bits_do_not_matter(tree):
    before = digest(tree)
    os.chmod(os.path.join(tree, 'app.py'), 0o600)
    os.chmod(os.path.join(tree, 'manage.sh'), 0o700)
    os.chmod(os.path.join(tree, 'pkg'), 0o700)
    assert digest(tree) == before


def test_relative_path_is_resolved_against_loader_basedir(tmp_path, tree):
    loader = DataLoader()
    loader.set_basedir(os.path.dirname(tree))
    result = make_lookup(loader).run([os.path.basename(tree)], variables={})
    assert result == [digest(tree)]


# ---------------------------------------------------------------------------
# directories: what counts
# ---------------------------------------------------------------------------

def test_content_change_changes_digest(tree):
    before = digest(tree)
    write(os.path.join(tree, 'pkg', 'views.py'), b'def index():\n    return "ho"\n')
    assert digest(tree) != before


def test_rename_changes_digest(tree):
    before = digest(tree)
    os.rename(os.path.join(tree, 'pkg', 'views.py'), os.path.join(tree, 'pkg', 'view.py'))
    assert digest(tree) != before


def test_move_to_other_directory_changes_digest(tree):
    before = digest(tree)
    os.rename(os.path.join(tree, 'pkg', 'views.py'), os.path.join(tree, 'views.py'))
    assert digest(tree) != before


def test_chmod_execute_changes_digest(tree):
    before = digest(tree)
    path = os.path.join(tree, 'app.py')
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    after = digest(tree)
    assert after != before
    # Any execute bit counts the same.
    os.chmod(path, 0o645)
    assert digest(tree) == after
    os.chmod(path, 0o644)
    assert digest(tree) == before


def test_new_empty_directory_changes_digest(tree):
    before = digest(tree)
    os.mkdir(os.path.join(tree, 'pkg', 'migrations'))
    assert digest(tree) != before


def test_removing_empty_directory_changes_digest(tree):
    before = digest(tree)
    os.rmdir(os.path.join(tree, 'var', 'empty'))
    assert digest(tree) != before


def test_new_empty_file_changes_digest(tree):
    before = digest(tree)
    write(os.path.join(tree, 'var', 'empty', '.keep'))
    assert digest(tree) != before


def test_symlink_target_change_changes_digest(tree):
    before = digest(tree)
    os.remove(os.path.join(tree, 'main.py'))
    os.symlink('wsgi.py', os.path.join(tree, 'main.py'))
    assert digest(tree) != before


def test_symlink_is_not_the_same_as_a_copy(tree):
    before = digest(tree)
    os.remove(os.path.join(tree, 'main.py'))
    shutil.copy(os.path.join(tree, 'app.py'), os.path.join(tree, 'main.py'))
    assert digest(tree) != before


def test_symlinked_directory_is_not_followed(tree):
    before = digest(tree)
    # Changing the content behind the link changes the digest once, through static/ itself ...
    write(os.path.join(tree, 'static', 'css', 'site.css'), b'body { margin: 1px }\n')
    changed = digest(tree)
    assert changed != before
    # ... and the link's record is the same as long as its target text is.
    os.remove(os.path.join(tree, 'assets'))
    os.symlink('static', os.path.join(tree, 'assets'))
    assert digest(tree) == changed


def test_link_to_outside_is_hashed_as_link(tmp_path, tree):
    outside = tmp_path / 'outside.txt'
    write(outside, b'one')
    os.symlink(str(outside), os.path.join(tree, 'config.py'))
    before = digest(tree)
    write(outside, b'two')
    assert digest(tree) == before


def test_broken_symlink_is_fine(tree):
    before = digest(tree)
    os.symlink('does-not-exist', os.path.join(tree, 'dangling'))
    assert digest(tree) != before


def test_type_changes_change_digest(tmp_path):
    # An empty file, an empty directory and a link named alike must all differ.
    as_file = tmp_path / 'f'
    as_dir = tmp_path / 'd'
    as_link = tmp_path / 'l'
    write(as_file / 'x')
    os.makedirs(str(as_dir / 'x'))
    os.makedirs(str(as_link))
    os.symlink('x', str(as_link / 'x'))
    assert len({digest(as_file), digest(as_dir), digest(as_link)}) == 3


def test_no_collision_by_concatenation(tmp_path):
    # Same bytes in total, split differently between names and contents.
    one = tmp_path / 'one'
    two = tmp_path / 'two'
    write(one / 'ab', b'c')
    write(two / 'a', b'bc')
    assert digest(one) != digest(two)
    three = tmp_path / 'three'
    four = tmp_path / 'four'
    write(three / 'a' / 'b', b'')
    write(four / 'a', b'')
    write(four / 'b', b'')
    assert digest(three) != digest(four)


def test_empty_directory_digest_is_stable(tmp_path):
    os.mkdir(str(tmp_path / 'a'))
    os.mkdir(str(tmp_path / 'b'))
    assert digest(tmp_path / 'a') == digest(tmp_path / 'b')
    assert digest(tmp_path / 'a') != hashlib.sha256(b'').hexdigest()


# ---------------------------------------------------------------------------
# exclude
# ---------------------------------------------------------------------------

def add_clutter(root, variant):
    write(os.path.join(root, '__pycache__', 'app.cpython-313.pyc'), variant)
    write(os.path.join(root, 'pkg', '__pycache__', 'views.cpython-313.pyc'), variant)
    write(os.path.join(root, 'pkg', 'old.pyc'), variant)
    write(os.path.join(root, 'pkg', 'old.pyo'), variant)
    write(os.path.join(root, '.git', 'HEAD'), b'ref: refs/heads/' + variant)
    write(os.path.join(root, '.git', 'objects', 'ab', 'cdef'), variant)
    write(os.path.join(root, 'static', '.DS_Store'), variant)
    write(os.path.join(root, '.venv', 'bin', 'python'), variant, 0o755)
    write(os.path.join(root, '.tox', 'py313', 'log'), variant)
    write(os.path.join(root, '.pytest_cache', 'v', 'cache'), variant)
    write(os.path.join(root, '.hg', 'store'), variant)
    write(os.path.join(root, '.svn', 'wc.db'), variant)


def test_default_exclude_constant():
    assert list(DEFAULT_EXCLUDE) == [
        '.git', '.hg', '.svn', '__pycache__', '*.pyc', '*.pyo', '.DS_Store', '.venv', '.tox', '.pytest_cache']


def test_default_exclude_matches_documentation():
    from ansible.utils.plugin_docs import read_docstring
    doc = read_docstring(tree_checksum.__file__)['doc']
    assert doc['options']['exclude']['default'] == list(DEFAULT_EXCLUDE)


def test_excluded_entries_do_not_count(tree):
    before = digest(tree)
    add_clutter(tree, b'one')
    assert digest(tree) == before
    add_clutter(tree, b'two')
    os.mkdir(os.path.join(tree, '.git', 'refs'))
    assert digest(tree) == before


def test_exclude_none_means_default(tree):
    before = digest(tree)
    add_clutter(tree, b'one')
    assert digest(tree, exclude=None) == before


def test_empty_exclude_counts_everything(tree):
    before = digest(tree, exclude=[])
    add_clutter(tree, b'one')
    with_clutter = digest(tree, exclude=[])
    assert with_clutter != before
    write(os.path.join(tree, '.git', 'HEAD'), b'ref: refs/heads/other')
    assert digest(tree, exclude=[]) != with_clutter
    write(os.path.join(tree, 'pkg', 'old.pyc'), b'other')
    assert digest(tree, exclude=[]) != with_clutter


def test_default_digest_differs_from_unexcluded_only_with_clutter(tree):
    assert digest(tree) == digest(tree, exclude=[])
    add_clutter(tree, b'one')
    assert digest(tree) != digest(tree, exclude=[])


def test_custom_exclude(tree):
    write(os.path.join(tree, 'node_modules', 'left-pad', 'index.js'), b'module.exports = 1\n')
    write(os.path.join(tree, 'debug.log'), b'one')
    write(os.path.join(tree, 'pkg', 'error.log'), b'one')
    custom = ['node_modules', '*.log']
    before = digest(tree, exclude=custom)
    write(os.path.join(tree, 'node_modules', 'left-pad', 'index.js'), b'module.exports = 2\n')
    write(os.path.join(tree, 'node_modules', 'new', 'index.js'), b'')
    write(os.path.join(tree, 'debug.log'), b'two')
    write(os.path.join(tree, 'pkg', 'error.log'), b'two')
    assert digest(tree, exclude=custom) == before
    # The custom list replaces the default one: .git counts now.
    write(os.path.join(tree, '.git', 'HEAD'), b'x')
    assert digest(tree, exclude=custom) != before


def test_exclude_matches_base_name_only(tree):
    before = digest(tree, exclude=['pkg/views.py'])
    write(os.path.join(tree, 'pkg', 'views.py'), b'changed')
    assert digest(tree, exclude=['pkg/views.py']) != before
    before = digest(tree, exclude=['views.py'])
    write(os.path.join(tree, 'pkg', 'views.py'), b'changed again')
    assert digest(tree, exclude=['views.py']) == before


def test_exclude_is_case_sensitive(tree):
    before = digest(tree, exclude=['APP.PY'])
    write(os.path.join(tree, 'app.py'), b'changed')
    assert digest(tree, exclude=['APP.PY']) != before


def test_exclude_does_not_apply_to_the_root(tmp_path):
    root = tmp_path / '.git'
    write(root / 'HEAD', b'one')
    before = digest(root)
    write(root / 'HEAD', b'two')
    assert digest(root) != before


def test_excluded_symlink_and_special_file(tmp_path, tree):
    os.symlink('nowhere', os.path.join(tree, '.venv'))
    os.mkfifo(os.path.join(tree, 'pkg', 'x.pyc'))
    assert digest(tree) == digest(tree, exclude=list(DEFAULT_EXCLUDE))


# ---------------------------------------------------------------------------
# several terms
# ---------------------------------------------------------------------------

def test_several_terms(tmp_path, tree):
    write(tmp_path / 'release.tar.gz', b'not really a tarball')
    other = make_tree(tmp_path / 'other')
    write(os.path.join(other, 'extra.txt'), b'extra')
    result = lookup(tree, str(tmp_path / 'release.tar.gz'), other, tree)
    assert result == [
        digest(tree),
        hashlib.sha256(b'not really a tarball').hexdigest(),
        digest(other),
        digest(tree),
    ]
    assert result[0] != result[2]


def test_list_term_is_flattened(tmp_path, tree):
    write(tmp_path / 'f', b'data')
    assert lookup([tree, str(tmp_path / 'f')]) == [digest(tree), hashlib.sha256(b'data').hexdigest()]


def test_no_terms():
    assert lookup() == []


def test_exclude_applies_to_every_term(tmp_path):
    a = make_tree(tmp_path / 'a')
    b = make_tree(tmp_path / 'b')
    write(os.path.join(b, 'notes.txt'), b'x')
    result = lookup(a, b, exclude=['notes.txt'])
    assert result[0] == result[1]


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def test_missing_path(tmp_path):
    missing = str(tmp_path / 'nope')
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup(missing)
    assert missing in str(excinfo.value)
    assert 'does not exist' in str(excinfo.value)


def test_missing_path_among_several(tmp_path, tree):
    missing = str(tmp_path / 'src-typo')
    with pytest.raises(AnsibleLookupError, match='src-typo.*does not exist'):
        lookup(tree, missing)


def test_broken_symlink_term(tmp_path):
    link = str(tmp_path / 'link')
    os.symlink('nowhere', link)
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup(link)
    assert link in str(excinfo.value)
    assert 'symbolic link to a path that does not exist' in str(excinfo.value)


def test_fifo_term(tmp_path):
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup(fifo)
    assert fifo in str(excinfo.value)
    assert 'is a FIFO, not a regular file, a directory or a symbolic link' in str(excinfo.value)


def test_socket_term(tmp_path):
    path = str(tmp_path / 's')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        with pytest.raises(AnsibleLookupError, match='is a socket'):
            lookup(path)
    finally:
        sock.close()


def test_device_term():
    if not os.path.exists('/dev/null'):
        pytest.skip('no /dev/null')
    with pytest.raises(AnsibleLookupError, match="'/dev/null' is a character device"):
        lookup('/dev/null')


def test_special_file_inside_tree(tree):
    fifo = os.path.join(tree, 'pkg', 'pipe')
    os.mkfifo(fifo)
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup(tree)
    assert fifo in str(excinfo.value)
    assert 'is a FIFO' in str(excinfo.value)


def test_unreadable_file(tree, monkeypatch):
    path = os.path.join(tree, 'pkg', 'views.py')
    real_open = open

    def fake_open(name, *args, **kwargs):
        if os.fsdecode(name) == path:
            raise IOError(13, 'Permission denied', name)
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(tree_checksum, 'open', fake_open, raising=False)
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup(tree)
    assert str(excinfo.value) == "tree_checksum: cannot read file %r: Permission denied" % path


def test_unreadable_directory(tree, monkeypatch):
    path = os.path.join(tree, 'pkg')
    real_listdir = os.listdir

    def fake_listdir(name):
        if os.fsdecode(name) == path:
            raise OSError(13, 'Permission denied', name)
        return real_listdir(name)

    monkeypatch.setattr(tree_checksum.os, 'listdir', fake_listdir)
    with pytest.raises(AnsibleLookupError) as excinfo:
        lookup(tree)
    assert str(excinfo.value) == "tree_checksum: cannot list directory %r: Permission denied" % path


@pytest.mark.skipif(hasattr(os, 'geteuid') and os.geteuid() == 0, reason='root can read anything')
def test_unreadable_file_for_real(tmp_path):
    path = tmp_path / 'secret'
    write(path, b'x', 0o000)
    with pytest.raises(AnsibleLookupError, match='cannot read file .*secret.*Permission denied'):
        lookup(str(path))


@pytest.mark.parametrize('term', [None, '', 42, {'path': '/tmp'}])
def test_bad_terms(term):
    with pytest.raises(AnsibleLookupError, match='a path must be a non-empty string'):
        lookup(term)


def test_bad_exclude(tree):
    with pytest.raises(AnsibleLookupError, match='exclude must be a list of strings'):
        digest(tree, exclude=[1])
