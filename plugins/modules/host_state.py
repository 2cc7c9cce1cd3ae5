#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
---
module: host_state
short_description: Read, in one call, the state of a host that the modwsgi.deploy roles act on
version_added: 0.2.0
description:
  - Reads, in one call per host, everything the C(modwsgi.deploy.app) and C(modwsgi.deploy.server) roles need to
    decide what to change, in four parts, each optional.
  - RV(apps) is the deployed state of every application of O(apps).
  - RV(paths) tells what is at each path of O(paths) (type, owner, group, mode, the SHA-1 checksum of a regular
    file, the target of a symbolic link), without following symbolic links.
  - RV(globs) lists what matches each pattern of O(globs).
  - RV(contents) holds the text of each small file of O(contents), for example a manifest a role wrote in an
    earlier run.
  - Each application lives in C(<root>/<name>), which holds C(releases/<id>) (complete once it contains the empty
    file O(apps[].release_marker)), C(venvs/<fingerprint>) (complete once it contains the empty file
    O(apps[].venv_marker_prefix) followed by the fingerprint), the relative symbolic links C(current) and
    C(previous) (C(releases/<id>)) and, in each release, the relative symbolic link C(venv)
    (C(../../venvs/<fingerprint>)).
  - Every directory of C(releases) and C(venvs) is reported, complete or not, whatever its name, with the owner,
    group and mode of the directory itself (not of what it holds). Symbolic links in them are not releases or
    virtualenvs and are left out.
  - Nothing below the application directory is followed when it is a symbolic link; links are only read. O(root)
    and the application directory themselves may be symbolic links to directories. C(releases) or C(venvs) being
    anything but a directory (a symbolic link, for example) fails the module, as the role could not work with it.
  - A missing O(root) or application directory is no error; the application is then reported with
    RV(apps.exists=false) and no releases or virtualenvs.
  - Markers count only when they are regular files (not followed when they are symbolic links).
  - The module never changes anything on the target. It fails when a path it has to look at, a directory it has
    to list or a file it has to read cannot be read (run it as root), rather than report a state that is not there.
author: modwsgi.deploy contributors (!UNKNOWN)
options:
  root:
    description:
      - Directory that holds one directory per application.
      - Must be an absolute path.
      - Required when O(apps) is not empty; not used otherwise.
    type: path
  apps:
    description:
      - The applications to report, each in C(<root>/<name>).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the application, the name of its directory under O(root) and its key in RV(apps).
          - Must be unique, not empty and contain no C(/); V(.) and V(..) are refused.
        type: str
        required: true
      user:
        description:
          - Name of the user the application runs as, reported in RV(apps.user).
          - When omitted, RV(apps.user) is V(null).
        type: str
      group:
        description:
          - Name of the application's group, reported in RV(apps.group).
          - When omitted, RV(apps.group) is V(null).
        type: str
      release_marker:
        description:
          - Name of the file that marks a release complete.
        type: str
        default: .modwsgi-release
      venv_marker_prefix:
        description:
          - Start of the name of the file that marks a virtualenv complete; the virtualenv's fingerprint (its
            directory name) follows.
        type: str
        default: .modwsgi-venv-
      verified_marker:
        description:
          - Name of the file that marks a release as verified.
        type: str
        default: .modwsgi-verified
  paths:
    description:
      - Paths to report in RV(paths), for example the files and directories a role manages.
      - Each must be an absolute path. Its key in RV(paths) is the path as given (a path option, so a leading C(~)
        or an environment variable would be expanded first).
      - A symbolic link is never followed, neither to report it nor to checksum it; a trailing C(/) is ignored. The
        directories leading to the path are followed as usual.
    type: list
    elements: path
    default: []
  globs:
    description:
      - Shell-style patterns (C(*), C(?), C([...])) whose matches are reported in RV(globs), for example to find the
        configuration files no longer wanted.
      - Each must be absolute. Its key in RV(globs) is the pattern exactly as given.
      - Matched like Python's C(glob.glob) does, without recursion (C(**) is the same as C(*)). A wildcard does
        not match a name starting with C(.) unless that component of the pattern starts with C(.) too. Symbolic
        links are matched like any other name, including dangling ones; directories of the pattern that are
        symbolic links are followed.
      - The module fails when the directory of the first wildcard cannot be listed; deeper directories that cannot
        be read are skipped, as C(glob.glob) does.
    type: list
    elements: str
    default: []
  contents:
    description:
      - Files whose text to return in RV(contents), for example a small JSON manifest a role wrote in an earlier
        run.
      - Each must be an absolute path. Its key in RV(contents) is the path as given (a path option, so a leading
        C(~) or an environment variable would be expanded first); a trailing C(/) is ignored.
      - Each must be a regular file of at most 65536 bytes, or not exist. A symbolic link (which is not followed),
        a directory or any other kind of file, or a bigger file fails the module, naming the path. The
        directories leading to the path are followed as usual.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Only the Python standard library is used, and no command is run; the module works on any POSIX system with
    Python, including FreeBSD and NetBSD.
  - The module reads at most 65536 bytes of each file of O(contents), so the text of a big file never travels
    back to the controller by mistake; use M(ansible.builtin.slurp) for anything bigger.
  - RV(paths.checksum) is the same SHA-1 as the C(checksum) of M(ansible.builtin.stat), so it can be compared with
    what the C(ansible.builtin.hash) filter gives for the wanted content, as in content | hash('sha1'), to know
    whether a file would change.
seealso:
  - module: ansible.builtin.stat
  - module: ansible.builtin.find
  - module: modwsgi.deploy.wsgi_check
  - module: modwsgi.deploy.mod_wsgi_info
"""

EXAMPLES = r"""
- name: Read the state of the apps, of the files they manage and of the enabled sites
  modwsgi.deploy.host_state:
    root: /srv/modwsgi
    apps:
      - name: hello
        user: hello
        group: hello
      - name: shop
    paths:
      - /srv/modwsgi
      - /srv/modwsgi/hello
      - /srv/modwsgi/hello/data
      - /srv/modwsgi/hello/env.json
      - /etc/apache2/sites-enabled/hello.conf
    globs:
      - /etc/apache2/sites-available/modwsgi-*.conf
  become: true
  register: host_state

- name: Show what hello serves
  ansible.builtin.debug:
    msg: >-
      hello serves release {{ host_state.apps.hello.current_release }}
      (verified {{ host_state.apps.hello.current_verified }}), previous {{ host_state.apps.hello.previous_release }}

- name: List the complete releases of hello, newest first
  ansible.builtin.debug:
    msg: >-
      {{ host_state.apps.hello.releases | dict2items | selectattr('value.complete')
         | sort(attribute='value.mtime', reverse=true) | map(attribute='key') | list }}

- name: Tell whether env.json would change
  vars:
    __env: "{{ host_state.paths['/srv/modwsgi/hello/env.json'] }}"
    __content: "{{ {'DJANGO_SETTINGS_MODULE': 'hello.settings'} | to_nice_json }}"
  ansible.builtin.debug:
    msg: "{{ __env is none or __env.type != 'file' or __env.checksum != (__content | hash('sha1')) }}"

- name: Read the manifest of the configuration files a previous run wrote
  modwsgi.deploy.host_state:
    contents:
      - /var/lib/modwsgi/hello/manifest.json
  become: true
  register: previous_run

- name: List the files the previous run wrote (none on a first run)
  vars:
    __manifest: "{{ previous_run.contents['/var/lib/modwsgi/hello/manifest.json'] }}"
  ansible.builtin.debug:
    msg: "{{ [] if __manifest is none else (__manifest | from_json).files }}"

- name: Only the state of the server's files (no apps, so no root)
  modwsgi.deploy.host_state:
    paths:
      - /etc/apache2/mods-enabled/wsgi.load
    globs:
      - /etc/apache2/conf-enabled/*.conf
  register: server_state
"""

RETURN = r"""
apps:
  description:
    - The state of each application of O(apps), keyed by its name. Each value is a dictionary with the keys below.
    - Empty when O(apps) is.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether C(<root>/<name>) is a directory.
      returned: always
      type: bool
      sample: true
    current:
      description: Target of the C(current) symbolic link, as written in the link; V(null) when it is missing or not a
        symbolic link.
      returned: always
      type: str
      sample: releases/abc123def456
    previous:
      description: Target of the C(previous) symbolic link, as written in the link; V(null) when it is missing or not
        a symbolic link.
      returned: always
      type: str
      sample: releases/0123456789ab
    current_release:
      description:
        - Id of the release RV(apps.current) points at, when it points at C(releases/<id>) (relative to the
          application directory, or as an absolute path) and that release directory exists (it is then a key of
          RV(apps.releases)).
        - V(null) otherwise, for example when the link dangles or points outside C(releases).
      returned: always
      type: str
      sample: abc123def456
    previous_release:
      description: Like RV(apps.current_release), for RV(apps.previous).
      returned: always
      type: str
      sample: 0123456789ab
    current_verified:
      description: Whether RV(apps.current_release) contains the file O(apps[].verified_marker); V(false) when it is
        V(null).
      returned: always
      type: bool
      sample: true
    releases:
      description: Every directory in C(releases), keyed by its name (the release id). Each value has the keys below.
      returned: always
      type: dict
      contains:
        complete:
          description: Whether the release contains O(apps[].release_marker) as a regular file.
          returned: always
          type: bool
          sample: true
        verified:
          description: Whether the release contains O(apps[].verified_marker) as a regular file.
          returned: always
          type: bool
          sample: false
        mtime:
          description: Modification time (seconds since the epoch) of the release marker when the release is
            complete, else of the release directory.
          returned: always
          type: float
          sample: 1733328000.123
        venv:
          description: Fingerprint of the virtualenv the release's C(venv) symbolic link points at
            (C(../../venvs/<fingerprint>), or an absolute path to it), whether or not that virtualenv exists;
            V(null) when the release has no such link.
          returned: always
          type: str
          sample: 5f0e1d2c3b4a
        owner:
          description:
            - Name of the owner of the release directory itself (not followed, not of what it holds), as in
              RV(paths.owner); its uid as a string when no user has it.
            - A release built by an older version of the P(modwsgi.deploy.app#role) role may still be owned by the
              app's user.
          returned: always
          type: str
          sample: root
        group:
          description: Name of the group of the release directory itself, as in RV(paths.group); its gid as a string
            when no group has it.
          returned: always
          type: str
          sample: root
        mode:
          description: Permission bits of the release directory itself (with the set-id and sticky bits), in octal
            with at least four digits, as in RV(paths.mode).
          returned: always
          type: str
          sample: "0755"
      sample:
        abc123def456:
          complete: true
          verified: true
          mtime: 1733328000.123
          venv: 5f0e1d2c3b4a
          owner: root
          group: root
          mode: "0755"
    venvs:
      description: Every directory in C(venvs), keyed by its name (the fingerprint). Each value has the keys below.
      returned: always
      type: dict
      contains:
        complete:
          description: Whether the virtualenv contains O(apps[].venv_marker_prefix) followed by its fingerprint, as a
            regular file.
          returned: always
          type: bool
          sample: true
        owner:
          description:
            - Name of the owner of the virtualenv directory itself (not followed, not of what it holds), as in
              RV(paths.owner); its uid as a string when no user has it.
            - A virtualenv built by an older version of the P(modwsgi.deploy.app#role) role may still be owned by
              the app's user.
          returned: always
          type: str
          sample: root
        group:
          description: Name of the group of the virtualenv directory itself, as in RV(paths.group); its gid as a
            string when no group has it.
          returned: always
          type: str
          sample: root
        mode:
          description: Permission bits of the virtualenv directory itself (with the set-id and sticky bits), in octal
            with at least four digits, as in RV(paths.mode).
          returned: always
          type: str
          sample: "0755"
      sample:
        5f0e1d2c3b4a:
          complete: true
          owner: root
          group: root
          mode: "0755"
    user:
      description: The user O(apps[].user); V(null) when it is not given or no such user exists.
      returned: always
      type: dict
      contains:
        name:
          description: User name.
          returned: when the user exists
          type: str
          sample: hello
        uid:
          description: User id.
          returned: when the user exists
          type: int
          sample: 998
        gid:
          description: Id of the user's primary group.
          returned: when the user exists
          type: int
          sample: 998
        home:
          description: Home directory.
          returned: when the user exists
          type: str
          sample: /srv/modwsgi/hello/data
        shell:
          description: Login shell.
          returned: when the user exists
          type: str
          sample: /usr/sbin/nologin
        group:
          description: Name of the primary group; its gid as a string when no group has it.
          returned: when the user exists
          type: str
          sample: hello
    group:
      description: The group O(apps[].group); V(null) when it is not given or no such group exists.
      returned: always
      type: dict
      contains:
        name:
          description: Group name.
          returned: when the group exists
          type: str
          sample: hello
        gid:
          description: Group id.
          returned: when the group exists
          type: int
          sample: 998
  sample:
    hello:
      exists: true
      current: releases/abc123def456
      previous: releases/0123456789ab
      current_release: abc123def456
      previous_release: 0123456789ab
      current_verified: true
      releases:
        abc123def456:
          complete: true
          verified: true
          mtime: 1733328000.123
          venv: 5f0e1d2c3b4a
          owner: root
          group: root
          mode: "0755"
        0123456789ab:
          complete: true
          verified: true
          mtime: 1733241600.5
          venv: 5f0e1d2c3b4a
          owner: hello
          group: hello
          mode: "0755"
      venvs:
        5f0e1d2c3b4a:
          complete: true
          owner: root
          group: root
          mode: "0755"
      user:
        name: hello
        uid: 998
        gid: 998
        home: /srv/modwsgi/hello/data
        shell: /usr/sbin/nologin
        group: hello
      group:
        name: hello
        gid: 998
    shop:
      exists: false
      current: null
      previous: null
      current_release: null
      previous_release: null
      current_verified: false
      releases: {}
      venvs: {}
      user: null
      group: null
paths:
  description:
    - What is at each path of O(paths), keyed by the path as given. V(null) when nothing is there, else a
      dictionary with the keys below (a dangling symbolic link is there, as a V(link)).
    - Empty when O(paths) is.
  returned: always
  type: dict
  contains:
    type:
      description: What the path is, a symbolic link not being followed.
      returned: when something is at the path
      type: str
      choices: [file, directory, link, other]
      sample: file
    owner:
      description: Name of the owner; its uid as a string when no user has it.
      returned: when something is at the path
      type: str
      sample: root
    group:
      description: Name of the group; its gid as a string when no group has it.
      returned: when something is at the path
      type: str
      sample: root
    mode:
      description: Permission bits (with the set-id and sticky bits), in octal with at least four digits.
      returned: when something is at the path
      type: str
      sample: "0644"
    checksum:
      description:
        - SHA-1 checksum (lowercase hexadecimal) of the content of a regular file, the same as the C(checksum) of
          M(ansible.builtin.stat) and as content | hash('sha1') for that content.
        - V(null) when RV(paths.type) is not V(file).
      returned: when something is at the path
      type: str
      sample: 8843d7f92416211de9ebb963ff4ce28125932878
    target:
      description: The target of a symbolic link, as written in the link (not resolved); V(null) when RV(paths.type)
        is not V(link).
      returned: when something is at the path
      type: str
      sample: ../sites-available/hello.conf
  sample:
    /srv/modwsgi/hello/env.json:
      type: file
      owner: root
      group: hello
      mode: "0640"
      checksum: 8843d7f92416211de9ebb963ff4ce28125932878
      target: null
    /srv/modwsgi/hello/data:
      type: directory
      owner: hello
      group: hello
      mode: "0750"
      checksum: null
      target: null
    /etc/apache2/sites-enabled/hello.conf:
      type: link
      owner: root
      group: root
      mode: "0777"
      checksum: null
      target: ../sites-available/hello.conf
    /srv/modwsgi/shop: null
globs:
  description:
    - The paths matching each pattern of O(globs), sorted, keyed by the pattern as given; an empty list when nothing
      matches.
    - Empty when O(globs) is.
  returned: always
  type: dict
  sample:
    /etc/apache2/sites-available/modwsgi-*.conf:
      - /etc/apache2/sites-available/modwsgi-hello.conf
      - /etc/apache2/sites-available/modwsgi-shop.conf
    /etc/apache2/conf-enabled/*.conf: []
contents:
  description:
    - The text of each file of O(contents), keyed by the path as given; V(null) when nothing is at the path (or a
      directory leading to it is missing or is not a directory).
    - The file is decoded as UTF-8, a byte that is not valid UTF-8 being replaced by U+FFFD.
    - Empty when O(contents) is.
  returned: always
  type: dict
  sample:
    /var/lib/modwsgi/hello/manifest.json: '{"files": ["/etc/apache2/sites-available/modwsgi-hello.conf"]}'
    /var/lib/modwsgi/shop/manifest.json: null
"""

import errno
import glob
import grp
import hashlib
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native


# Errors that mean "nothing there" (a path component is missing, is not a directory, or was
# removed while it was being read); every other error fails the module.
_MISSING = (errno.ENOENT, errno.ENOTDIR)
# What open() with O_NOFOLLOW fails with on a symbolic link: ELOOP (Linux, POSIX), EMLINK (FreeBSD), EFTYPE (NetBSD).
_IS_LINK = tuple(getattr(errno, name) for name in ('ELOOP', 'EMLINK', 'EFTYPE') if hasattr(errno, name))
_CHUNK = 1024 * 1024
# The most bytes RV(contents) returns of a file.
MAX_CONTENT = 65536
# Opens a file without following a symbolic link, nor blocking on a FIFO.
_READ_FLAGS = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0)
# A wildcard of glob.glob (the same test as its has_magic()).
_MAGIC = re.compile(r'[*?[]')


class StateError(Exception):
    """A path that exists could not be read, or is not what the layout needs."""

    def __init__(self, msg, path):
        super(StateError, self).__init__(msg)
        self.path = path


def _os_error(action, path, exc):
    return StateError('cannot %s %s: %s' % (action, path, to_native(exc.strerror or exc)), path)


def _lstat(path):
    """``os.lstat(path)``, or None when nothing is there."""
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno in _MISSING:
            return None
        raise _os_error('read the status of', path, exc)


def _readlink(path):
    """The target of the symbolic link ``path``, or None when it is missing or not a symbolic link."""
    try:
        return os.readlink(path)
    except OSError as exc:
        if exc.errno in _MISSING + (errno.EINVAL,):
            return None
        raise _os_error('read the symbolic link', path, exc)


def _is_regular(path):
    st = _lstat(path)
    return st is not None and stat.S_ISREG(st.st_mode)


def _subdirectories(path, what):
    """The ``(name, lstat result)`` of the directories (not symbolic links) in ``path``, sorted by name; an empty list
    when it is missing."""
    st = _lstat(path)
    if st is None:
        return []
    if not stat.S_ISDIR(st.st_mode):
        raise StateError('%s is not a directory (a symbolic link is not followed), so the app\'s %s cannot be '
                         'listed.' % (path, what), path)
    try:
        names = os.listdir(path)
    except OSError as exc:
        if exc.errno in _MISSING:
            return []
        raise _os_error('list', path, exc)
    found = []
    for name in sorted(names):
        entry = _lstat(os.path.join(path, name))
        if entry is not None and stat.S_ISDIR(entry.st_mode):
            found.append((name, entry))
    return found


def _link_child(link, base, directory):
    """The name ``link``'s target has in ``directory`` (``base`` is the directory holding the link).

    ``link`` is the text of a symbolic link; it is resolved lexically (no symbolic link is followed). Returns None
    when the target is not an entry of ``directory``.
    """
    if not link:
        return None
    target = os.path.normpath(os.path.join(base, link))
    name = os.path.basename(target)
    if os.path.dirname(target) != directory or name in ('', '.', '..'):
        return None
    return name


def sha1_file(path):
    """The SHA-1 hex digest of the regular file ``path``; None when it is missing or not a regular file."""
    st = _lstat(path)
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        if exc.errno in _MISSING + _IS_LINK:
            return None  # removed, or replaced by a symbolic link, since the lstat
        raise _os_error('read', path, exc)
    digest = hashlib.sha1()
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    except OSError as exc:
        raise _os_error('read', path, exc)
    finally:
        os.close(fd)
    return digest.hexdigest()


def _not_regular(path):
    return StateError('%s is not a regular file (a symbolic link is not followed), so its text cannot be '
                      'returned.' % path, path)


def _too_big(path):
    return StateError('%s is bigger than %d bytes, the most the module returns of a file.' % (path, MAX_CONTENT),
                      path)


def read_text(path):
    """The text of the regular file at the absolute ``path`` (UTF-8, undecodable bytes replaced).

    None when nothing is there. A symbolic link is not followed; anything but a regular file of at most
    MAX_CONTENT bytes raises StateError.
    """
    path = path.rstrip('/') or '/'
    st = _lstat(path)
    if st is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path)
    if st.st_size > MAX_CONTENT:
        raise _too_big(path)
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        if exc.errno in _MISSING:
            return None  # removed since the lstat
        if exc.errno in _IS_LINK:
            raise _not_regular(path)  # replaced by a symbolic link since the lstat
        raise _os_error('read', path, exc)
    data = b''
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _not_regular(path)
        # One byte more than allowed tells a file that grew since the lstat.
        while len(data) <= MAX_CONTENT:
            chunk = os.read(fd, MAX_CONTENT + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise _os_error('read', path, exc)
    finally:
        os.close(fd)
    if len(data) > MAX_CONTENT:
        raise _too_big(path)
    return data.decode('utf-8', 'replace')


class Names(object):
    """User and group names by id, looked up once each."""

    def __init__(self):
        self._users = {}
        self._groups = {}

    def user(self, uid):
        if uid not in self._users:
            try:
                self._users[uid] = pwd.getpwuid(uid).pw_name
            except KeyError:
                self._users[uid] = str(uid)
        return self._users[uid]

    def group(self, gid):
        if gid not in self._groups:
            try:
                self._groups[gid] = grp.getgrgid(gid).gr_name
            except KeyError:
                self._groups[gid] = str(gid)
        return self._groups[gid]


def _ownership(st, names):
    """The owner and group names and the octal mode of an lstat result, as RV(paths) gives them."""
    return {
        'owner': names.user(st.st_uid),
        'group': names.group(st.st_gid),
        'mode': '%04o' % stat.S_IMODE(st.st_mode),
    }


def path_info(path, names):
    """What is at the absolute ``path`` (a symbolic link is not followed); None when nothing is there."""
    path = path.rstrip('/') or '/'  # a trailing slash would make lstat follow a symbolic link
    st = _lstat(path)
    if st is None:
        return None
    info = {'type': 'other'}
    info.update(_ownership(st, names))
    info.update(checksum=None, target=None)
    if stat.S_ISREG(st.st_mode):
        info['type'] = 'file'
        info['checksum'] = sha1_file(path)
    elif stat.S_ISDIR(st.st_mode):
        info['type'] = 'directory'
    elif stat.S_ISLNK(st.st_mode):
        info['type'] = 'link'
        info['target'] = _readlink(path)
    return info


def glob_matches(pattern):
    """The sorted paths glob.glob finds for the absolute ``pattern``.

    glob.glob skips whatever it cannot read; the directory of the pattern's first wildcard (or, for a pattern without
    one, the pattern itself) is looked at first so that a permission problem there fails instead of matching nothing.
    """
    parts = pattern.split('/')
    wildcard = next((index for index, part in enumerate(parts) if _MAGIC.search(part)), None)
    if wildcard is None:
        _lstat(pattern)
    else:
        base = '/'.join(parts[:wildcard]) or '/'
        try:
            os.listdir(base)
        except OSError as exc:
            if exc.errno not in _MISSING:
                raise _os_error('list', base, exc)
    return sorted(set(glob.glob(pattern)))


def user_info(name, names):
    if not name:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return {
        'name': entry.pw_name,
        'uid': entry.pw_uid,
        'gid': entry.pw_gid,
        'home': entry.pw_dir,
        'shell': entry.pw_shell,
        'group': names.group(entry.pw_gid),
    }


def group_info(name):
    if not name:
        return None
    try:
        entry = grp.getgrnam(name)
    except KeyError:
        return None
    return {'name': entry.gr_name, 'gid': entry.gr_gid}


def app_state(root, app, names):
    """The state of one application (``app`` holds its options)."""
    app_dir = os.path.normpath(os.path.join(root, app['name']))
    releases_dir = os.path.join(app_dir, 'releases')
    venvs_dir = os.path.join(app_dir, 'venvs')

    # The root and the app directory may be symbolic links; os.path.isdir follows them.
    exists = os.path.isdir(app_dir)
    state = {
        'exists': exists,
        'current': None,
        'previous': None,
        'current_release': None,
        'previous_release': None,
        'current_verified': False,
        'releases': {},
        'venvs': {},
        'user': user_info(app['user'], names),
        'group': group_info(app['group']),
    }
    if not exists:
        return state

    for release_id, release_st in _subdirectories(releases_dir, 'releases'):
        release = os.path.join(releases_dir, release_id)
        marker = _lstat(os.path.join(release, app['release_marker']))
        complete = marker is not None and stat.S_ISREG(marker.st_mode)
        mtime = marker.st_mtime if complete else release_st.st_mtime
        state['releases'][release_id] = {
            'complete': complete,
            'verified': _is_regular(os.path.join(release, app['verified_marker'])),
            'mtime': float(mtime),
            'venv': _link_child(_readlink(os.path.join(release, 'venv')), release, venvs_dir),
        }
        state['releases'][release_id].update(_ownership(release_st, names))

    for fingerprint, venv_st in _subdirectories(venvs_dir, 'virtualenvs'):
        marker = os.path.join(venvs_dir, fingerprint, app['venv_marker_prefix'] + fingerprint)
        state['venvs'][fingerprint] = {'complete': _is_regular(marker)}
        state['venvs'][fingerprint].update(_ownership(venv_st, names))

    for link in ('current', 'previous'):
        target = _readlink(os.path.join(app_dir, link))
        state[link] = target
        release_id = _link_child(target, app_dir, releases_dir)
        if release_id in state['releases']:
            state[link + '_release'] = release_id

    current = state['current_release']
    state['current_verified'] = current is not None and state['releases'][current]['verified']
    return state


def check_args(module):
    params = module.params
    root = params['root']
    if params['apps'] and root is None:
        module.fail_json(msg='root is required when apps is not empty (the apps live in <root>/<name>).')
    if root is not None and not os.path.isabs(root):
        module.fail_json(msg='root must be an absolute path, not %r.' % root)
    seen = set()
    for app in params['apps']:
        name = app['name']
        if not name or '/' in name or name in ('.', '..') or '\0' in name:
            module.fail_json(msg='apps: %r is not a valid app name (it must be a non-empty directory name).' % name)
        if name in seen:
            module.fail_json(msg='apps: the app name %r is given more than once.' % name)
        seen.add(name)
        for key in ('release_marker', 'venv_marker_prefix', 'verified_marker'):
            value = app[key]
            if not value or '/' in value or value in ('.', '..'):
                module.fail_json(msg='apps (%s): %s must be a file name, not %r.' % (name, key, value))
    for path in params['paths']:
        if not os.path.isabs(path):
            module.fail_json(msg='paths: %r is not an absolute path.' % path)
    for pattern in params['globs']:
        if not os.path.isabs(pattern):
            module.fail_json(msg='globs: %r is not an absolute pattern.' % pattern)
    for path in params['contents']:
        if not os.path.isabs(path):
            module.fail_json(msg='contents: %r is not an absolute path.' % path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path'),
            apps=dict(
                type='list',
                elements='dict',
                default=[],
                options=dict(
                    name=dict(type='str', required=True),
                    user=dict(type='str'),
                    group=dict(type='str'),
                    release_marker=dict(type='str', default='.modwsgi-release'),
                    venv_marker_prefix=dict(type='str', default='.modwsgi-venv-'),
                    verified_marker=dict(type='str', default='.modwsgi-verified'),
                ),
            ),
            paths=dict(type='list', elements='path', default=[]),
            globs=dict(type='list', elements='str', default=[]),
            contents=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    check_args(module)
    names = Names()
    result = dict(changed=False, apps={}, paths={}, globs={}, contents={})
    for app in module.params['apps']:
        try:
            result['apps'][app['name']] = app_state(module.params['root'], app, names)
        except StateError as exc:
            module.fail_json(msg='%s: %s' % (app['name'], to_native(exc)), path=exc.path)
    for path in module.params['paths']:
        try:
            result['paths'][path] = path_info(path, names)
        except StateError as exc:
            module.fail_json(msg='paths: %s' % to_native(exc), path=exc.path)
    for pattern in module.params['globs']:
        try:
            result['globs'][pattern] = glob_matches(pattern)
        except StateError as exc:
            module.fail_json(msg='globs: %s' % to_native(exc), path=exc.path)
    for path in module.params['contents']:
        try:
            result['contents'][path] = read_text(path)
        except StateError as exc:
            module.fail_json(msg='contents: %s' % to_native(exc), path=exc.path)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
