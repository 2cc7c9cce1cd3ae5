# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
---
name: tree_checksum
short_description: SHA-256 digest of a file or of a whole directory tree on the controller
version_added: 0.1.0
description:
  - Returns one SHA-256 hex digest for each path given, computed on the Ansible controller from the content only.
    An unchanged source therefore always gives the same digest, which the C(modwsgi.deploy.app) role uses
    to derive its release id.
  - For a regular file the digest is the SHA-256 of its bytes, the same value C(sha256sum) prints.
  - For a directory the digest covers every entry below it, taken in sorted order so that the order in which the
    file system lists them does not matter. For each entry it covers the path relative to the directory, the type
    (file, directory or symbolic link), for a file whether any execute bit is set and the SHA-256 of its content,
    and for a symbolic link the link target text. Empty directories count.
  - Modification times, owners, groups, permission bits other than the execute bits, and the absolute location
    of the directory are ignored, so the same tree copied elsewhere gives the same digest.
  - Symbolic links below the directory are never followed; a link to a file or to a directory is hashed as a
    link (its target text), not as what it points to. A path given as term that is itself a symbolic link is
    followed.
  - Files are read in chunks, so large files and trees of a few thousand files are fine.
  - Fails when a path does not exist or cannot be read, or when the path or an entry below it is neither a regular
    file, a directory nor a symbolic link (a socket, a FIFO or a device), unless that entry is excluded.
author: modwsgi.deploy contributors (!UNKNOWN)
options:
  _terms:
    description:
      - Paths of the files or directories to hash, on the controller.
      - C(~) is expanded. Relative paths are relative to the directory of the playbook being run, also
        inside roles; the C(files/) search path of roles and plays is B(not) used. Absolute paths are recommended.
    type: list
    elements: path
    required: true
  exclude:
    description:
      - Shell-style patterns (as understood by Python's C(fnmatch), matched case-sensitively) that are compared
        with the B(base name) of every entry below a directory. An entry that matches is skipped; when it is a
        directory, everything below it is skipped too.
      - The patterns never apply to the path given as term itself, and are not used for a term that is a file.
      - Set to V([]) to hash every entry.
      - The default is available to Python code as C(DEFAULT_EXCLUDE) in this plugin.
    type: list
    elements: str
    default:
      - .git
      - .hg
      - .svn
      - __pycache__
      - '*.pyc'
      - '*.pyo'
      - .DS_Store
      - .venv
      - .tox
      - .pytest_cache
notes:
  - The digest only describes what is deployed if the copy of the source that is deployed leaves out exactly the
    entries left out here. Whatever copies the tree must therefore be given the same list of patterns with the
    same meaning.
  - O(community.general.archive#module:exclusion_patterns) compares a pattern with the whole member name (or path)
    and does not skip the content of an excluded directory. To leave out the same entries with it, give every
    pattern V(P) of O(exclude) as V(P), V(*/P), V(P/*) and V(*/P/*). This is exact for the default patterns;
    since C(*) also matches C(/) there, a pattern with C(*) in the middle may leave out more.
  - The digest of a directory is not the digest of any archive of it; it can only be compared with another
    digest computed by this plugin.
  - Use C(query) or O(ignore:wantlist=true) to get a list when several paths are given; C(lookup) joins the
    digests with commas otherwise.
seealso:
  - plugin: ansible.builtin.file
    plugin_type: lookup
  - module: community.general.archive
"""

EXAMPLES = r"""
- name: Release id of an application checked out on the controller
  ansible.builtin.set_fact:
    app_release_id: "{{ lookup('modwsgi.deploy.tree_checksum', '/home/me/src/myapp')[:12] }}"

- name: Digest of a single archive, equal to the output of sha256sum
  ansible.builtin.debug:
    msg: "{{ lookup('modwsgi.deploy.tree_checksum', '/srv/builds/myapp-1.4.2.tar.gz') }}"

- name: Leave out node_modules and *.log too (the list replaces the default one, so repeat what is still wanted)
  ansible.builtin.debug:
    msg: >-
      {{ lookup('modwsgi.deploy.tree_checksum', playbook_dir ~ '/../myapp',
                exclude=['.git', '__pycache__', '*.pyc', '.venv', 'node_modules', '*.log']) }}

- name: Hash every entry, .git included
  ansible.builtin.debug:
    msg: "{{ lookup('modwsgi.deploy.tree_checksum', '/home/me/src/myapp', exclude=[]) }}"

- name: Several paths at once, one digest each
  ansible.builtin.debug:
    msg: "{{ query('modwsgi.deploy.tree_checksum', '/home/me/src/myapp', '/home/me/src/myapp/requirements.txt') }}"
"""

RETURN = r"""
_raw:
  description:
    - One SHA-256 digest (64 lowercase hexadecimal characters) for each path, in the order given.
  type: list
  elements: str
  sample:
    - 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
"""

import errno
import hashlib
import os
import stat
import struct
from fnmatch import fnmatchcase

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.module_utils.six import string_types
from ansible.plugins.lookup import LookupBase

#: Base name patterns left out of a directory's digest unless the ``exclude`` option says otherwise.
DEFAULT_EXCLUDE = (
    '.git',
    '.hg',
    '.svn',
    '__pycache__',
    '*.pyc',
    '*.pyo',
    '.DS_Store',
    '.venv',
    '.tox',
    '.pytest_cache',
)

CHUNK_SIZE = 1024 * 1024

# First bytes hashed for a directory. Bump the version when the encoding below changes.
_TREE_HEADER = b'modwsgi.deploy.tree_checksum:1\n'

# Every entry is one record: a one-byte type tag followed by length-prefixed fields, so that the
# sequence of records can be split back unambiguously and different trees cannot give the same bytes.
_TAG_DIR = b'd'
_TAG_FILE = b'f'
_TAG_LINK = b'l'
_EXEC = b'x'
_NOEXEC = b'-'


def _field(data):
    return struct.pack('>Q', len(data)) + data


def _describe(path):
    return to_text(path, errors='surrogate_or_replace')


def _os_error(path, action, exc):
    return AnsibleLookupError('tree_checksum: cannot %s %r: %s' % (
        action, _describe(path), to_native(exc.strerror or exc, errors='surrogate_or_replace')))


def _not_supported(path, mode):
    if stat.S_ISSOCK(mode):
        kind = 'a socket'
    elif stat.S_ISFIFO(mode):
        kind = 'a FIFO'
    elif stat.S_ISCHR(mode):
        kind = 'a character device'
    elif stat.S_ISBLK(mode):
        kind = 'a block device'
    else:
        kind = 'of an unsupported type'
    return AnsibleLookupError('tree_checksum: %r is %s, not a regular file, a directory or a symbolic link' % (
        _describe(path), kind))


def file_digest(path):
    """Return a ``hashlib.sha256`` object fed with the content of file ``path``, read in chunks."""
    digest = hashlib.sha256()
    try:
        with open(path, 'rb') as handle:
            while True:
                chunk = handle.read(CHUNK_SIZE)
                if not chunk:
                    break
                digest.update(chunk)
    except (IOError, OSError) as exc:
        raise _os_error(path, 'read file', exc)
    return digest


def _is_excluded(b_name, b_patterns):
    for b_pattern in b_patterns:
        if fnmatchcase(b_name, b_pattern):
            return True
    return False


def _walk(b_root, b_relative, b_patterns, digest):
    """Feed the records of every entry below ``b_root/b_relative`` into ``digest``, sorted by name."""
    b_dir = os.path.join(b_root, b_relative) if b_relative else b_root
    try:
        names = sorted(os.listdir(b_dir))
    except (IOError, OSError) as exc:
        raise _os_error(b_dir, 'list directory', exc)
    for b_name in names:
        if _is_excluded(b_name, b_patterns):
            continue
        b_rel = b_relative + b'/' + b_name if b_relative else b_name
        b_path = os.path.join(b_dir, b_name)
        try:
            mode = os.lstat(b_path).st_mode
        except (IOError, OSError) as exc:
            raise _os_error(b_path, 'access', exc)
        if stat.S_ISLNK(mode):
            try:
                b_target = os.readlink(b_path)
            except (IOError, OSError) as exc:
                raise _os_error(b_path, 'read symbolic link', exc)
            digest.update(_TAG_LINK + _field(b_rel) + _field(b_target))
        elif stat.S_ISDIR(mode):
            digest.update(_TAG_DIR + _field(b_rel))
            _walk(b_root, b_rel, b_patterns, digest)
        elif stat.S_ISREG(mode):
            executable = _EXEC if mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH) else _NOEXEC
            digest.update(_TAG_FILE + _field(b_rel) + executable + _field(file_digest(b_path).digest()))
        else:
            raise _not_supported(b_path, mode)


def tree_checksum(path, exclude=DEFAULT_EXCLUDE):
    """Return the SHA-256 hex digest of directory ``path``, leaving out entries whose base name matches ``exclude``."""
    b_root = to_bytes(path, errors='surrogate_or_strict')
    b_patterns = [to_bytes(pattern, errors='surrogate_or_strict') for pattern in exclude or ()]
    try:
        mode = os.stat(b_root).st_mode
    except (IOError, OSError) as exc:
        raise _os_error(b_root, 'access', exc)
    if not stat.S_ISDIR(mode):
        raise AnsibleLookupError('tree_checksum: %r is not a directory' % _describe(b_root))
    digest = hashlib.sha256(_TREE_HEADER)
    _walk(b_root, b'', b_patterns, digest)
    return digest.hexdigest()


def checksum(path, exclude=DEFAULT_EXCLUDE):
    """Return the SHA-256 hex digest of ``path``: of its content for a file, :func:`tree_checksum` for a directory."""
    b_path = to_bytes(path, errors='surrogate_or_strict')
    try:
        mode = os.stat(b_path).st_mode
    except (IOError, OSError) as exc:
        if getattr(exc, 'errno', None) == errno.ENOENT:
            if os.path.islink(b_path):
                raise AnsibleLookupError('tree_checksum: %r is a symbolic link to a path that does not exist' % _describe(b_path))
            raise AnsibleLookupError('tree_checksum: %r does not exist' % _describe(b_path))
        raise _os_error(b_path, 'access', exc)
    if stat.S_ISDIR(mode):
        return tree_checksum(b_path, exclude)
    if stat.S_ISREG(mode):
        return file_digest(b_path).hexdigest()
    raise _not_supported(b_path, mode)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        exclude = self.get_option('exclude')
        if exclude is None:
            exclude = DEFAULT_EXCLUDE
        for pattern in exclude:
            if not isinstance(pattern, string_types):
                raise AnsibleLookupError('tree_checksum: exclude must be a list of strings, got %r' % (pattern,))

        ret = []
        for term in self._flatten(terms):
            if not isinstance(term, string_types) or not term:
                raise AnsibleLookupError('tree_checksum: a path must be a non-empty string, got %r' % (term,))
            path = self._loader.path_dwim(term)
            ret.append(checksum(path, exclude))
        return ret
