# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The app role's model of its apps, in plain Python (controller side).

The functions here take and return plain data (dicts, lists, strings, numbers) and never template
anything. They reproduce what the app role used to compute with Jinja ``{% %}`` programs in its task
files, including the quirks of the Ansible and Jinja filters those programs used (``combine``'s
merge order, the case-insensitive ``unique``, ``sort`` and ``groupby``, ``int``'s fallbacks), so the
merged apps, the error messages, the release ids and the virtualenv fingerprints stay the same.

The filters of ``plugins/filter/app_model.py`` are thin wrappers around these functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import itertools
import json
import numbers
import os
import re

from collections.abc import Mapping, MutableMapping

from ansible_collections.modwsgi.deploy.plugins.module_utils.wsgi_entry_point import parse_entry_point


# ---------------------------------------------------------------------------
# Constants (roles/app/vars/main.yml)
# ---------------------------------------------------------------------------

# What every app gets unless it (or modwsgi_app_defaults) says otherwise. The order is the one of
# vars/main.yml: it is the key order of every merged app.
BUILTIN_DEFAULTS = {
    'server_aliases': [],
    'port': 80,
    'mount': '/',
    'requirements': None,
    'python': None,
    'user': None,
    'group': None,
    'processes': None,
    'threads': 5,
    'daemon_options': {},
    'env': {},
    'secret_env': {},
    'static': [],
    'tls': None,
    'health_check': {},
    'pre_switch': [],
    'keep_releases': 3,
    'mode': 'daemon',
    'pass_authorization': False,
    'extra_directives': [],
    'state': 'present',
    'setup': [],
    'files': [],
    'shared': [],
    'shared_files': [],
    'default_site': False,
}
FILE_DEFAULTS = {'mode': '0640', 'secret': False}
FILE_KEYS = ('path', 'content', 'src', 'mode', 'secret')
HEALTH_DEFAULTS = {'path': '/', 'status': 200, 'timeout': 30}
TLS_DEFAULTS = {'port': 443, 'redirect_http': True, 'chain': None}
SOURCE_DEFAULTS = {'version': 'HEAD', 'subdir': ''}

# mod_wsgi's own production advice; the app's daemon_options are merged over these.
DAEMON_TIMEOUTS = {
    'request-timeout': 60,
    'deadlock-timeout': 60,
    'startup-timeout': 15,
    'graceful-timeout': 15,
    'shutdown-timeout': 5,
    'connect-timeout': 15,
    'socket-timeout': 60,
    'queue-timeout': 45,
}

# WSGIDaemonProcess options the role sets and checks itself. Value: what to set instead.
OWNED_DAEMON_OPTIONS = {
    'user': "the app's user key",
    'group': "the app's group key",
    'home': 'nothing (the role points it at the current release)',
    'python-home': "the app's python key (the role points it at the release's virtualenv)",
    'python-path': "source.subdir (the role points it at the release's source)",
}

NAME_PATTERN = r'^[a-z0-9][a-z0-9_-]{0,25}$'
SERVER_NAME_PATTERN = r'^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$'
SERVER_ALIAS_PATTERN = r'^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$'
ENV_NAME_PATTERN = r'^[A-Za-z_][A-Za-z0-9_]*$'
ARCHIVE_PATTERN = r'\.(tar\.gz|tgz|tar|zip)$'
# The patterns the key checks use inline.
MOUNT_PATTERN = r'^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$'
SYSTEM_NAME_PATTERN = r'^[a-z_][a-z0-9_-]{0,31}$'
STATIC_URL_PATTERN = r'^/[^\s"]*$'

# Files the controller-side copy and the content checksum both leave out.
SOURCE_EXCLUDE = ['.git', '.hg', '.svn', '__pycache__', '*.pyc', '*.pyo', '.DS_Store', '.venv', '.tox', '.pytest_cache']

# Marker written into a release once it is complete, and the prefix of the one written into a
# virtualenv (followed by its fingerprint).
RELEASE_MARKER = '.modwsgi-release'
VENV_MARKER = '.modwsgi-venv-'
VERIFIED_MARKER = '.modwsgi-verified'

# The Listen lines of a port the distribution does not open, one file per port (apps deployed by
# separate playbooks may share one). LEGACY_LISTEN_FILE held every port before 0.2.0.
LISTEN_FILE = 'modwsgi-listen-%s.conf'
LEGACY_LISTEN_FILE = 'modwsgi-listen.conf'
# Prefix of the site file of a site that answers unknown host names: Apache's first virtual host on
# an address is its default, and every family includes its site files in name order ('-' sorts
# before '0', so this comes before Debian's 000-default.conf too).
DEFAULT_SITE_PREFIX = '00-'
# The configuration files every run may find, remove or replace: those of this role only.
CONFIG_FILE_GLOB = '*modwsgi-*.conf'
# An empty file in the app's directory per configuration file the app uses, named after it: tells a
# run which apps (its own or another playbook's) each file serves.
CONFIG_OWNER_MARKER = '.modwsgi-conf-'
# Under the app's data directory: one file per setup command run, named after the command's digest.
SETUP_RECORDS = '.modwsgi-setup'
# In the app's directory: the files (the files key) the role wrote, for removing those dropped.
FILES_MANIFEST = 'files.json'

# The app's directories, exported to its environment and expanded as ${NAME} in env values, files
# content, setup and pre_switch commands (and, on the host, in factory arguments).
DIRECTORY_NAMES = ('MODWSGI_APP', 'MODWSGI_APP_ROOT', 'MODWSGI_APP_DATA', 'MODWSGI_APP_CONFIG', 'MODWSGI_APP_RELEASE')
DIRECTORY_REFERENCE = re.compile(r'\$\{(MODWSGI_APP[A-Za-z0-9_]*)\}')
FILE_MODE_PATTERN = r'^0?[0-7]{3}$'

SHAPE_MESSAGE = ('modwsgi_apps must be a list of dicts (one per app, each with a name) and '
                 'modwsgi_app_defaults a dict of app keys other than name.')

_MISSING = object()


# ---------------------------------------------------------------------------
# What the Jinja filters and tests did
# ---------------------------------------------------------------------------

def _text(value):
    """The ``string`` filter (and ``~``)."""
    return value if isinstance(value, str) else str(value)


def _json(value):
    """The ``to_json`` filter: ``json.dumps`` with its default separators and ASCII escapes."""
    return json.dumps(value)


def _json_loose(value):
    """``to_json`` for comparing values that may not be JSON data (anything else is compared as text)."""
    return json.dumps(value, default=_text)


def _quoted(value):
    """``value | string | to_json``."""
    return _json(_text(value))


def _is_number(value):
    """Jinja's ``number`` test (true for booleans too)."""
    return isinstance(value, numbers.Number)


def _is_sequence(value):
    """Jinja's ``sequence`` test: anything with a length and items (strings and dicts too)."""
    try:
        len(value)
        getattr(value, '__getitem__')
    except Exception:  # pylint: disable=broad-except
        return False
    return True


def _match(pattern, value):
    """Ansible's ``match`` test: ``re.match`` on the text of the value."""
    return re.match(pattern, _text(value)) is not None


def _search(pattern, value):
    """Ansible's ``search`` test."""
    return re.search(pattern, _text(value)) is not None


def _int(value, default=0):
    """Jinja's ``int`` filter ("42.23" gives 42, anything else unusable gives 0)."""
    try:
        if isinstance(value, str):
            return int(value, 10)
        return int(value)
    except (TypeError, ValueError, OverflowError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return default


def _bool(value):
    """Ansible's ``bool`` filter (without its deprecation warning for odd values)."""
    if isinstance(value, str):
        check = value.lower()
    elif isinstance(value, int):
        check = str(value).lower()
    else:
        check = value
    try:
        if check in ('yes', 'on', 'true', '1'):
            return True
        if check in ('no', 'off', 'false', '0'):
            return False
        return check == 1
    except TypeError:
        return False


def _fold(value):
    """Jinja's case-insensitive sort and group key."""
    return value.lower() if isinstance(value, str) else value


def _sorted(items, key=None, reverse=False):
    """Jinja's ``sort`` filter: case-insensitive for strings, stable."""
    if key is None:
        return sorted(items, key=_fold, reverse=reverse)
    return sorted(items, key=lambda item: _fold(key(item)), reverse=reverse)


def _sorted_loose(items):
    """``sort`` for values that may not be comparable with each other (then sorted as text)."""
    try:
        return _sorted(items)
    except TypeError:
        return sorted(items, key=lambda item: _fold(_text(item)))


def _unique(items):
    """Ansible's ``unique`` filter: Jinja's case-insensitive one, or a plain one for unhashable items."""
    items = list(items)
    try:
        seen = set()
        out = []
        for item in items:
            key = _fold(item)
            if key not in seen:
                seen.add(key)
                out.append(item)
        return out
    except TypeError:
        out = []
        for item in items:
            if item not in out:
                out.append(item)
        return out


def _difference(first, second):
    """Ansible's ``difference`` filter (its order does not matter: every use here sorts it)."""
    try:
        return list(set(first) - set(second))
    except TypeError:
        return _unique([item for item in first if item not in second])


def _groupby(items, key):
    """Jinja's ``groupby`` filter: groups sorted case-insensitively, each named by its first item."""
    groups = []
    for dummy, values in itertools.groupby(_sorted(items, key=key), key=lambda item: _fold(key(item))):
        values = list(values)
        groups.append((key(values[0]), values))
    return groups


def _merge_hash(low, high, recursive):
    """ansible.utils.vars.merge_hash with list_merge='replace' (and its shortcuts, which decide key order)."""
    if not (isinstance(low, MutableMapping) and isinstance(high, MutableMapping)):
        raise TypeError("failed to combine variables, expected dicts but got a '%s' and a '%s'."
                        % (low.__class__.__name__, high.__class__.__name__))
    if low == {} or low == high:
        return high.copy()
    if high == {}:
        return low
    out = low.copy()
    for key, high_value in high.items():
        if key in out and recursive and isinstance(out[key], MutableMapping) and isinstance(high_value, MutableMapping):
            out[key] = _merge_hash(out[key], high_value, recursive)
        else:
            out[key] = high_value
    return out


def combine(*dicts, **kwargs):
    """Ansible's ``combine`` filter: later dicts win; ``recursive=True`` merges nested dicts too."""
    recursive = kwargs.pop('recursive', False)
    if kwargs:
        raise TypeError('unexpected arguments: %s' % ', '.join(sorted(kwargs)))
    dicts = [item for item in dicts if item not in (None, 'None', 'null')]
    if not dicts:
        return {}
    if len(dicts) == 1:
        return dicts[0]
    result = dicts[-1]
    for item in reversed(dicts[:-1]):
        result = _merge_hash(item, result, recursive)
    return result


def _get(mapping, key, default=None):
    """``mapping[key]`` when mapping is a dict holding key, else default (Jinja's undefined)."""
    if isinstance(mapping, Mapping) and key in mapping:
        return mapping[key]
    return default


def _items(value):
    """What a Jinja ``for`` loop walks through; nothing for null or a scalar (where Jinja fails)."""
    if value is None or isinstance(value, numbers.Number):
        return []
    try:
        return list(value)
    except TypeError:
        return []


def _digest(data, extra=None):
    """``data | to_json | hash('sha256') | truncate(12, true, '')``.

    ``extra`` keys (added after 0.1.0) join the data only when given, so that the digests of data
    without them stay what they were.
    """
    if extra:
        data = combine(data, extra)
    return hashlib.sha256(_json(data).encode('utf-8')).hexdigest()[:12]


# ---------------------------------------------------------------------------
# Merging (tasks/preflight/normalize.yml)
# ---------------------------------------------------------------------------

def shape_errors(apps, defaults):
    """The shape check of modwsgi_apps and modwsgi_app_defaults: [] or [the message]."""
    good = (_is_sequence(apps) and not isinstance(apps, str) and not isinstance(apps, Mapping)
            and all(isinstance(entry, Mapping) for entry in apps)
            and isinstance(defaults, Mapping)
            and 'name' not in defaults)
    return [] if good else [SHAPE_MESSAGE]


def merge_apps(apps, defaults, root, server=None, cpus=2, playbook_dir=''):
    """Every entry of modwsgi_apps merged over modwsgi_app_defaults and the builtin defaults.

    ``server`` is the modwsgi_server facts dict (or {}), ``cpus`` the host's CPU count, ``playbook_dir``
    what a relative ``source.path`` is relative to. Returns a list of dicts: the merged keys plus
    ``index``, the host-dependent defaults (``user``, ``group``, ``python``, ``processes``), the complete
    ``source``, ``health_check`` and ``tls``, ``requirements`` and ``requirements_optional``, and every
    path the role needs (``_dir``, ``_releases``, ..., ``_site``).
    """
    errors = shape_errors(apps, defaults)
    if errors:
        raise ValueError(errors[0])
    server = server or {}
    cpus = _int(cpus)
    out = []
    for index, entry in enumerate(apps):
        app = combine(copy.deepcopy(BUILTIN_DEFAULTS), defaults, entry, recursive=True)
        name = _text(app['name']) if 'name' in app else ''
        source = app.get('source')
        src = combine(copy.deepcopy(SOURCE_DEFAULTS), source if isinstance(source, Mapping) else {})
        path = src.get('path')
        # A relative controller path is relative to the playbook, as for the lookup that fingerprints it.
        if isinstance(path, str) and path and not os.path.isabs(path):
            src = combine(src, {'path': _text(playbook_dir) + '/' + path})
        is_pypi = src.get('type', '') == 'pypi'
        base = _text(root) + '/' + name
        user = app.get('user') if app.get('user') else 'wsgi-' + name
        subdir = src.get('subdir', '')
        src_rel = '' if is_pypi else '/'.join(_text(part) for part in ['src', subdir] if part)
        health = app.get('health_check')
        tls = app.get('tls')
        mount = app.get('mount')
        extra = {
            'index': index,
            'user': user,
            'group': app.get('group') if app.get('group') else user,
            'python': app.get('python') if app.get('python') else server.get('python', '/usr/bin/python3'),
            'processes': app.get('processes') if app.get('processes') is not None else max(2, cpus),
            'source': src,
            'health_check': combine(copy.deepcopy(HEALTH_DEFAULTS), health if isinstance(health, Mapping) else {}),
            'tls': combine(copy.deepcopy(TLS_DEFAULTS), tls) if isinstance(tls, Mapping) else None,
            'requirements': (app.get('requirements') if app.get('requirements') is not None
                             else ([] if is_pypi else 'requirements.txt')),
            'requirements_optional': app.get('requirements') is None,
            '_dir': base,
            '_releases': base + '/releases',
            '_venvs': base + '/venvs',
            '_current': base + '/current',
            '_previous': base + '/previous',
            '_data': base + '/data',
            '_config': base + '/config',
            '_setup_records': base + '/data/' + SETUP_RECORDS,
            '_files_manifest': base + '/' + FILES_MANIFEST,
            '_cache': base + '/cache',
            '_wsgi_dir': base + '/wsgi',
            '_wsgi_file': base + '/wsgi/' + name + '.wsgi',
            '_env_file': base + '/env.json',
            '_secret_file': base + '/secret_env.json',
            '_src_rel': src_rel,
            '_src_current': '/'.join(part for part in [base + '/current', src_rel] if part),
            '_mount_order': '%05d %s' % (len(_text(mount)), mount),
            '_site': (re.sub(r'[^A-Za-z0-9.-]', '_', _text(app['server_name']) if 'server_name' in app else '')
                      + '-' + _text(app.get('port'))),
        }
        extra['_files'] = _normalized_files(app.get('files'), directory_values(combine(app, extra, {'name': name})),
                                            playbook_dir)
        shared_files = app.get('shared_files') if isinstance(app.get('shared_files'), list) else []
        # The directories under data/ that files entries and shared files need, created with the app's owner.
        extra['_data_dirs'] = data_parents(extra, [item['path'] for item in extra['_files'] if item['path']]
                                           + [extra['_data'] + '/' + _text(path) for path in shared_files])
        extra.update(_static_modes(app, src_rel))
        out.append(combine(app, extra))
    return out


def _static_modes(app, src_rel):
    """What Apache must reach in a release that is otherwise private to the app's group (release/lock.yml).

    ``_static_dirs``: the static directories inside the release (relative ``static`` paths not in a shared path),
    and ``_static_parents``: the directories above them, from the release directory down; both as suffixes of the
    release directory ('' for itself, '/src/...' below it). Others may read the first and only traverse the second.
    """
    shared = [item for key in ('shared', 'shared_files') for item in _items(app.get(key)) if isinstance(item, str)]
    dirs, parents = [], []
    for static in _items(app.get('static')):
        path = _get(static, 'path')
        if not isinstance(path, str) or not path or path.startswith('/') or _relative_path_error(path.rstrip('/')):
            continue
        path = path.rstrip('/')
        if _inside(path, shared) or not src_rel:
            continue
        full = src_rel + '/' + path
        dirs.append('/' + full)
        parts = full.split('/')
        for depth in range(len(parts)):
            parent = ''.join('/' + part for part in parts[:depth])
            if parent not in parents:
                parents.append(parent)
    return {'_static_dirs': _unique(dirs), '_static_parents': parents}


def _file_place(path, values):
    """Where a files entry's path puts the file: (place, absolute path or None, path relative to the source root or None).

    ``place`` is 'release' for ``${MODWSGI_APP_RELEASE}/<relative path>`` (placed into every new release), else
    'config' for a bare file name (in the config directory) and 'path' for an absolute path, with a leading
    ${MODWSGI_APP_ROOT}, ${MODWSGI_APP_DATA} or ${MODWSGI_APP_CONFIG} expanded.
    """
    prefix = '${MODWSGI_APP_RELEASE}/'
    if path.startswith(prefix):
        return 'release', None, path[len(prefix):]
    for name in ('MODWSGI_APP_ROOT', 'MODWSGI_APP_DATA', 'MODWSGI_APP_CONFIG'):
        if path.startswith('${%s}/' % name):
            return 'path', values[name] + path[len(name) + 3:], None
    if path.startswith('/'):
        return 'path', path, None
    return 'config', values['MODWSGI_APP_CONFIG'] + '/' + path, None


def _normalized_files(files, values, playbook_dir):
    """The files entries that are dicts, with where each goes, the controller src made absolute and the defaults.

    Each has ``path`` (absolute; None for a release file), ``release`` and ``rel`` (a release file's path relative
    to the source root), ``written`` (the path as the entry gives it), ``content``, ``src``, ``mode`` and ``secret``.
    """
    out = []
    for index, entry in enumerate(_items(files) if not isinstance(files, (str, Mapping)) else []):
        if not isinstance(entry, Mapping):
            continue
        path = entry.get('path')
        path = _text(path) if path is not None else ''
        place, absolute, rel = _file_place(path, values)
        src = entry.get('src')
        if isinstance(src, str) and src and not os.path.isabs(src):
            src = _text(playbook_dir) + '/' + src
        out.append({
            'index': index,
            'path': absolute,
            'release': place == 'release',
            'rel': rel,
            'written': path,
            'content': entry.get('content'),
            'src': src,
            'mode': entry.get('mode', FILE_DEFAULTS['mode']),
            'secret': entry.get('secret', FILE_DEFAULTS['secret']),
        })
    return out


def host_files(app):
    """The app's files entries that are written onto the host by tasks/prepare/files.yml (not into releases)."""
    return [item for item in app.get('_files') or [] if not item.get('release')]


def data_parents(app, paths):
    """The directories between the app's data directory and each of ``paths`` (absolute, under data/), parents first."""
    data = app['_data']
    out = []
    for path in paths:
        parent = os.path.dirname(path)
        chain = []
        while parent.startswith(data + '/'):
            chain.insert(0, parent)
            parent = os.path.dirname(parent)
        out.extend(directory for directory in chain if directory not in out)
    return out


# ---------------------------------------------------------------------------
# Checks (tasks/preflight/app_keys.yml, app_sets.yml, host.yml)
# ---------------------------------------------------------------------------

def _app_label(app):
    """'modwsgi_apps[<index>] (<name>)', the start of every message about one app."""
    name = _get(app, 'name')
    return 'modwsgi_apps[%s]%s' % (_text(_get(app, 'index')), (' (' + name + ')') if isinstance(name, str) else '')


def _source_errors(v, src):
    if 'type' not in src:
        return ['%s.source must be a dict with type dir, git, archive or pypi.' % v]
    kind = src['type']
    path = src.get('path', _MISSING)
    url = src.get('url', _MISSING)
    if kind == 'dir' and not (isinstance(path, str) and os.path.isdir(path)):
        return ['%s.source.path must be an existing directory on the controller; got %s.'
                % (v, _quoted('nothing' if path is _MISSING else path))]
    if kind == 'git' and not (isinstance(src.get('repo'), str) and len(src['repo']) > 0):
        return ['%s.source.repo must name the git repository to clone.' % v]
    if kind == 'archive' and (url is not _MISSING) == (path is not _MISSING):
        return ['%s.source needs exactly one of url (downloaded on the host) and path (a file on the controller).' % v]
    if kind == 'archive' and path is not _MISSING and not (isinstance(path, str) and os.path.isfile(path)):
        return ['%s.source.path must be an existing archive file on the controller; got %s.' % (v, _quoted(path))]
    if kind == 'archive':
        named = path if url is _MISSING else url
        if not _search(ARCHIVE_PATTERN, _text(named)):
            return ['%s.source must name a .tar.gz, .tgz, .tar or .zip archive; got %s.' % (v, _quoted(named))]
    if kind == 'pypi' and not (isinstance(src.get('spec'), str) and len(src['spec']) > 0):
        return ["%s.source.spec must be the requirement to install, such as 'Werkzeug>=3,<4'." % v]
    return []


def _relative_path_error(path):
    """Why ``path`` is not a plain relative path inside a directory, or None."""
    if not isinstance(path, str) or not path:
        return 'it is empty or not a string'
    if path.startswith('/'):
        return 'it is absolute'
    parts = path.split('/')
    if '' in parts or '.' in parts or '..' in parts:
        return "it has an empty, '.' or '..' part"
    if _search(r'[\s"]', path):
        return 'it has spaces or quotes'
    return None


def _shared_path_errors(v, key, paths, what, example):
    errors = []
    for index, path in enumerate(paths):
        why = _relative_path_error(path)
        if why is None and path.split('/')[0] in ('venv',):
            why = 'the release keeps its virtualenv there'
        if why:
            errors.append("%s.%s[%d] must be a %s relative to the source root (e.g. '%s'); %s is not: %s."
                          % (v, key, index, what, example, _quoted(path), why))
    texts = [_text(path) for path in paths]
    for path in _unique(texts):
        if texts.count(path) > 1:
            errors.append('%s.%s lists %s twice.' % (v, key, _quoted(path)))
    return errors


def _inside(path, directories):
    """The first of ``directories`` (relative paths) that ``path`` is or lies inside, or None."""
    for directory in directories:
        if isinstance(path, str) and isinstance(directory, str) and (path + '/').startswith(directory + '/'):
            return directory
    return None


def _shared_errors(v, app):
    shared = app.get('shared')
    shared_files = app.get('shared_files')
    errors = []
    if isinstance(shared, str) or not _is_sequence(shared) or isinstance(shared, Mapping):
        errors.append("%s.shared must be a list of directories relative to the source root, such as ['instance', 'media']." % v)
        shared = []
    if isinstance(shared_files, str) or not _is_sequence(shared_files) or isinstance(shared_files, Mapping):
        errors.append("%s.shared_files must be a list of files relative to the source root, such as ['db.sqlite3']." % v)
        shared_files = []
    source = app.get('source') if isinstance(app.get('source'), Mapping) else {}
    for key, paths in (('shared', shared), ('shared_files', shared_files)):
        if paths and source.get('type') == 'pypi':
            errors.append('%s.%s needs a dir, git or archive source: a pypi source has no source directory to link from.'
                          % (v, key))
    errors.extend(_shared_path_errors(v, 'shared', shared, 'directory', 'instance'))
    errors.extend(_shared_path_errors(v, 'shared_files', shared_files, 'file', 'db.sqlite3'))
    for path in shared_files:
        directory = _inside(path, [other for other in shared if other != path])
        if directory:
            errors.append('%s.shared_files lists %s, which is inside the shared directory %s already; drop it from one of them.'
                          % (v, _quoted(path), _quoted(directory)))
        elif path in shared:
            errors.append('%s.shared_files lists %s, which shared lists as a directory; a path is one or the other.'
                          % (v, _quoted(path)))
    return errors


def _files_errors(v, app):
    files = app.get('files')
    if isinstance(files, str) or not _is_sequence(files) or isinstance(files, Mapping):
        return ['%s.files must be a list of dicts, each with path and content or src.' % v]
    errors = []
    inside = app['_dir'] + '/'
    for index, entry in enumerate(files):
        label = '%s.files[%d]' % (v, index)
        if not isinstance(entry, Mapping):
            errors.append('%s must be a dict with path and content or src; got %s.' % (label, _quoted(entry)))
            continue
        unknown = sorted(_text(key) for key in entry if key not in FILE_KEYS)
        if unknown:
            errors.append('%s has unknown keys %s; the keys are %s.' % (label, ', '.join(unknown), ', '.join(FILE_KEYS)))
        path = entry.get('path')
        placed = [item for item in app.get('_files', []) if item.get('index') == index]
        placed = placed[0] if placed else {}
        absolute = placed.get('path') if placed and isinstance(path, str) and path.startswith(('/', '${')) else None
        if placed.get('release'):
            why = _relative_path_error(placed['rel'])
            if why is None and placed['rel'].split('/')[0] == 'venv':
                why = 'the release keeps its virtualenv there'
            shared = [item for item in _items(app.get('shared')) + _items(app.get('shared_files')) if isinstance(item, str)]
            if why:
                errors.append("%s.path %s must name a file relative to the release's source root after "
                              "${MODWSGI_APP_RELEASE}/ (e.g. '${MODWSGI_APP_RELEASE}/mysite/settings/local.py'); %s."
                              % (label, _quoted(path), why))
            elif _inside(placed['rel'], shared):
                errors.append('%s.path %s lies in the shared path %s, which links to the data directory: write it there '
                              '(${MODWSGI_APP_DATA}/%s) instead.' % (label, _quoted(path), _quoted(_inside(placed['rel'], shared)),
                                                                     placed['rel']))
            elif (app.get('source') or {}).get('type') == 'pypi':
                errors.append('%s.path %s needs a dir, git or archive source: a pypi source has no source directory.'
                              % (label, _quoted(path)))
        elif absolute is not None:
            normal = os.path.normpath(absolute)
            if normal != absolute or _search(r'[\s"$]', absolute):
                errors.append('%s.path must be a normalized absolute path without spaces, quotes or other ${...} names; got %s.'
                              % (label, _quoted(path)))
            elif (normal + '/').startswith(inside) and not (
                    normal.startswith((app['_config'] + '/', app['_data'] + '/'))
                    and not (normal + '/').startswith(app['_setup_records'] + '/')):
                errors.append("%s.path %s is inside the app's directory, which the role manages; put it in its config "
                              "directory (a bare file name, or ${MODWSGI_APP_CONFIG}/...) or its data directory "
                              "(${MODWSGI_APP_DATA}/...) instead." % (label, _quoted(path)))
        elif not isinstance(path, str) or _relative_path_error(path) or '/' in path:
            errors.append("%s.path must be a file name in the app's config directory (%s), such as 'settings.ini', a path "
                          "starting with ${MODWSGI_APP_DATA}/, ${MODWSGI_APP_CONFIG}/ or ${MODWSGI_APP_RELEASE}/, or an "
                          "absolute path; got %s." % (label, app['_config'], _quoted(entry.get('path', 'nothing'))))
        has_content = 'content' in entry and entry['content'] is not None
        has_src = 'src' in entry and entry['src'] is not None
        if has_content == has_src:
            errors.append('%s needs exactly one of content (the text) and src (a file or template on the controller).' % label)
        elif has_content and not isinstance(entry['content'], str):
            errors.append('%s.content must be a string (use a YAML block scalar for several lines).' % label)
        elif has_src:
            src = [item for item in app.get('_files', []) if item.get('index') == index]
            src_path = src[0]['src'] if src else entry['src']
            if not isinstance(src_path, str) or not os.path.isfile(src_path):
                errors.append('%s.src must be an existing file on the controller (relative paths are relative to the playbook); '
                              'got %s.' % (label, _quoted(entry['src'])))
        mode = entry.get('mode', FILE_DEFAULTS['mode'])
        if not isinstance(mode, str) or not _match(FILE_MODE_PATTERN, mode):
            errors.append("%s.mode must be an octal mode in quotes, such as '0640'; got %s%s." % (
                label, _quoted(mode), ' (an unquoted 0640 reaches Ansible as the number 416)' if isinstance(mode, int) else ''))
        if not isinstance(entry.get('secret', False), bool):
            errors.append('%s.secret must be true or false; got %s.' % (label, _quoted(entry.get('secret'))))
    paths = [item['path'] or '${MODWSGI_APP_RELEASE}/' + item['rel'] for item in app.get('_files', [])]
    for path in _unique(paths):
        if paths.count(path) > 1:
            errors.append('%s.files writes %s more than once.' % (v, path))
    return errors


def directory_references(value):
    """The ${MODWSGI_APP...} names a string (or the strings of a list or dict) refers to."""
    if isinstance(value, str):
        return DIRECTORY_REFERENCE.findall(value)
    if isinstance(value, Mapping):
        return [name for item in value.values() for name in directory_references(item)]
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in directory_references(item)]
    return []


def _reference_errors(v, app):
    errors = []
    places = [('env', app.get('env')), ('setup', app.get('setup')), ('pre_switch', app.get('pre_switch')),
              ('files', [entry.get('content') for entry in _items(app.get('files')) if isinstance(entry, Mapping)])]
    for key, value in places:
        unknown = [name for name in directory_references(value) if name not in DIRECTORY_NAMES]
        if unknown:
            errors.append('%s.%s refers to %s, which the role does not set; the names it expands are %s.'
                          % (v, key, ', '.join('${%s}' % name for name in _unique(unknown)),
                             ', '.join('${%s}' % name for name in DIRECTORY_NAMES)))
    secret = _unique(directory_references(app.get('secret_env')))
    if secret:
        errors.append('%s.secret_env values are never expanded, but they name %s: put such a variable in env instead.'
                      % (v, ', '.join('${%s}' % name for name in secret)))
    return errors


def _present_app_errors(v, app, server):
    """The checks of one present app, in the order app_keys.yml made them."""
    errors = []
    server_name = app.get('server_name', _MISSING)
    if not isinstance(server_name, str) or not _match(SERVER_NAME_PATTERN, server_name):
        errors.append("%s.server_name must be a host name such as 'www.example.com'; got %s."
                      % (v, _quoted('nothing' if server_name is _MISSING else server_name)))
    for alias in _items(app.get('server_aliases')):
        if not isinstance(alias, str) or not _match(SERVER_ALIAS_PATTERN, alias):
            errors.append('%s.server_aliases must hold host names; %s is not one.' % (v, _quoted(alias)))
    port = app.get('port')
    if not _is_number(port) or _int(port) < 1 or _int(port) > 65535:
        errors.append('%s.port must be a TCP port between 1 and 65535; got %s.' % (v, _quoted(port)))
    mount = app.get('mount')
    if not isinstance(mount, str) or not _match(MOUNT_PATTERN, mount) or '/../' in mount + '/':
        errors.append("%s.mount must be a URL path starting with '/' and without a trailing '/' (e.g. '/' or '/api'); got %s."
                      % (v, _quoted(mount)))
    entry_point = app.get('entry_point', _MISSING)
    if not isinstance(entry_point, str):
        errors.append("%s.entry_point must be 'module:callable' (e.g. 'hello:app') or a factory call 'module:factory()' or "
                      "'module:factory(<Python literals>)' (e.g. 'blog:create_app()'); got %s."
                      % (v, _quoted('nothing' if entry_point is _MISSING else entry_point)))
    else:
        try:
            parse_entry_point(entry_point)
        except ValueError as ex:
            errors.append('%s.%s' % (v, ex))
    src = app.get('source')
    src = src if isinstance(src, Mapping) else {}
    errors.extend(_source_errors(v, src))
    subdir = src.get('subdir', '')
    if not isinstance(subdir, str) or _match('^/', subdir) or '..' in subdir:
        errors.append("%s.source.subdir must be a relative path inside the source, without '..'; got %s."
                      % (v, _quoted(src.get('subdir'))))
    requirements = app.get('requirements')
    if isinstance(requirements, str):
        if _match('^/', requirements) or '..' in requirements or len(requirements) == 0:
            errors.append("%s.requirements must be a file relative to the source root (no '..'), or a list of requirement specs; got %s."
                          % (v, _json(requirements)))
    elif (not _is_sequence(requirements) or isinstance(requirements, Mapping)
          or [item for item in requirements if not isinstance(item, str)]):
        errors.append('%s.requirements must be a file relative to the source root, or a list of requirement specs (strings).' % v)
    python = app.get('python')
    if not isinstance(python, str) or not _match('^/', python):
        errors.append('%s.python must be the absolute path of a Python interpreter on the host; got %s.' % (v, _quoted(python)))
    refused = ['root', 'wheel'] + ([server.get('apache_user'), server.get('apache_group')] if server else [])
    for key in ('user', 'group'):
        value = app.get(key)
        if not isinstance(value, str) or not _match(SYSTEM_NAME_PATTERN, value):
            errors.append("%s.%s must be a system %s name (lowercase letters, digits, '-', '_'); got %s."
                          % (v, key, key, _quoted(value)))
        elif value in refused:
            errors.append('%s.%s must not be %s: the app runs as its own user, never as root or the Apache user.' % (v, key, value))
    for key in ('processes', 'threads', 'keep_releases'):
        value = app.get(key)
        if not _is_number(value) or _int(value) < 1:
            errors.append('%s.%s must be a whole number of at least 1; got %s.' % (v, key, _quoted(value)))
    for key in _items(app.get('daemon_options')):
        try:
            owned = key in OWNED_DAEMON_OPTIONS
        except TypeError:
            owned = False
        if owned:
            errors.append('%s.daemon_options.%s cannot be set: the role sets and checks %s itself; set %s instead.'
                          % (v, key, key, OWNED_DAEMON_OPTIONS[key]))
    for variable in ('env', 'secret_env'):
        for key in _items(app.get(variable)):
            if not _match(ENV_NAME_PATTERN, key):
                errors.append("%s.%s has a bad variable name %s: use letters, digits and '_', not starting with a digit."
                              % (v, variable, _json(key)))
    for index, static in enumerate(_items(app.get('static'))):
        url = _get(static, 'url', '')
        if not isinstance(url, str) or not _match(STATIC_URL_PATTERN, url):
            errors.append("%s.static[%d].url must be an absolute URL path such as '/static'; got %s."
                          % (v, index, _quoted(_get(static, 'url', 'nothing'))))
        path = _get(static, 'path', '')
        if not isinstance(path, str) or len(path) == 0 or '..' in path or _search(r'[\s"]', path):
            errors.append("%s.static[%d].path must be a directory relative to the source root (no '..') or an absolute path, "
                          "without spaces or quotes; got %s." % (v, index, _quoted(_get(static, 'path', 'nothing'))))
    tls = app.get('tls')
    if tls is not None:
        for key in ('cert', 'key'):
            value = _get(tls, key, _MISSING)
            if not isinstance(value, str) or not _match('^/', value):
                errors.append('%s.tls.%s must be the absolute path of the %s file on the host; tls needs both cert and key.'
                              % (v, key, 'certificate' if key == 'cert' else 'private key'))
        tls_port = _get(tls, 'port')
        if not _is_number(tls_port) or _int(tls_port) < 1 or _int(tls_port) > 65535 or _int(tls_port) == _int(port):
            errors.append('%s.tls.port must be a TCP port between 1 and 65535, other than port; got %s.' % (v, _quoted(tls_port)))
    health = app.get('health_check')
    health_path = _get(health, 'path')
    if not isinstance(health_path, str) or not _match('^/', health_path):
        errors.append("%s.health_check.path must start with '/'; got %s." % (v, _quoted(health_path)))
    status = _get(health, 'status')
    if not _is_number(status) or _int(status) < 100 or _int(status) > 599:
        errors.append('%s.health_check.status must be an HTTP status between 100 and 599; got %s.' % (v, _quoted(status)))
    timeout = _get(health, 'timeout')
    if not _is_number(timeout) or _int(timeout) < 1 or _int(timeout) > 3600:
        errors.append('%s.health_check.timeout must be between 1 and 3600 seconds; got %s.' % (v, _quoted(timeout)))
    for key, what in (('pre_switch', 'a list of commands (strings)'),
                      ('setup', 'a list of commands (strings)'),
                      ('extra_directives', 'a list of Apache configuration lines (strings)')):
        value = app.get(key)
        if isinstance(value, str) or not _is_sequence(value) or [item for item in value if not isinstance(item, str)]:
            errors.append('%s.%s must be %s.' % (v, key, what))
    mode = app.get('mode')
    if mode == 'embedded':
        errors.append('%s.mode: embedded mode was removed in 0.2.0; every app runs in its own daemon processes as its own '
                      'user. Drop the mode key.' % v)
    elif mode != 'daemon':
        errors.append('%s.mode must be daemon (the only mode); got %s.' % (v, _quoted(mode)))
    if not isinstance(app.get('default_site'), bool):
        errors.append('%s.default_site must be true or false; got %s.' % (v, _quoted(app.get('default_site'))))
    if not isinstance(app.get('pass_authorization'), bool):
        errors.append('%s.pass_authorization must be true or false; got %s.' % (v, _quoted(app.get('pass_authorization'))))
    errors.extend(_shared_errors(v, app))
    errors.extend(_files_errors(v, app))
    errors.extend(_reference_errors(v, app))
    return errors


def key_errors(merged, server=None):
    """One message per bad key of each merged app (app_keys.yml), in the order the role reported them."""
    server = server or {}
    errors = []
    for app in merged:
        v = _app_label(app)
        name = app.get('name')
        if not isinstance(name, str) or not _match(NAME_PATTERN, name):
            errors.append("%s.name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter or digit; got %s."
                          % (v, _quoted(name)))
        if app.get('state') == 'present':
            errors.extend(_present_app_errors(v, app, server))
        if app.get('state') not in ['present', 'absent']:
            errors.append('%s.state must be present or absent; got %s.' % (v, _quoted(app.get('state'))))
    return errors


def set_errors(merged):
    """Names, URLs and users claimed twice; apps on one site disagreeing on tls or aliases (app_sets.yml)."""
    errors = []
    present = [app for app in merged if app.get('state') == 'present']
    names = [_text(app.get('name')) for app in merged]
    for name in _unique(names):
        count = names.count(name)
        if count > 1:
            errors.append("modwsgi_apps: the name '%s' is used by %d apps; every app needs a name of its own." % (name, count))
    urls = [':'.join(_text(app.get(key, '')) for key in ('server_name', 'port', 'mount')) for app in present]
    for url in _unique(urls):
        if urls.count(url) > 1:
            errors.append('modwsgi_apps: several apps claim server_name:port:mount %s; '
                          'give each app on one server_name and port its own mount.' % url)
    users = [_text(app.get('user')) for app in present]
    for user in _unique(users):
        if users.count(user) > 1:
            errors.append("modwsgi_apps: the user '%s' is given to several apps (%s); every app runs as its own user."
                          % (user, ', '.join(_text(app.get('name')) for app in present if app.get('user') == user)))
    defaults = [app for app in present if app.get('default_site') is True]
    for port, apps in _groupby(defaults, key=lambda app: _text(app.get('port'))):
        if len(_unique(app.get('_site') for app in apps)) > 1:
            errors.append('modwsgi_apps: %s all set default_site on port %s; only one virtual host can answer the unknown '
                          'host names of a port.' % (', '.join(_text(app.get('name')) for app in apps), port))
    for site, apps in _groupby(present, key=lambda app: app.get('_site')):
        names = ', '.join(_text(app.get('name')) for app in apps)
        if len(_unique(_json_loose(app.get('tls')) for app in apps)) > 1:
            errors.append('modwsgi_apps: %s share server_name and port (%s) but not the same tls settings; '
                          'give them identical tls (or none).' % (names, site))
        if len(_unique(_json_loose(_sorted_loose(_items(app.get('server_aliases')))) for app in apps)) > 1:
            errors.append('modwsgi_apps: %s share server_name and port (%s) but list different server_aliases; '
                          'give them the same list.' % (names, site))
    return errors


def app_errors(apps, defaults, root, server=None, cpus=2, playbook_dir=''):
    """Every preflight error of the input at once: the shape, else each app's keys, then the clashes."""
    errors = shape_errors(apps, defaults)
    if errors:
        return errors
    merged = merge_apps(apps, defaults, root, server, cpus, playbook_dir)
    return key_errors(merged, server) + set_errors(merged)


def python_errors(merged, results, built_for):
    """The interpreters that are missing or not mod_wsgi's Python (host.yml).

    ``results`` is the ``results`` list of the loop that ran each distinct python of the present apps
    (dicts with ``item``, ``rc``, ``stdout``, ``stderr``); ``built_for`` the X.Y mod_wsgi was built for.
    """
    errors = []
    present = [app for app in merged if app.get('state') == 'present']
    for result in results or []:
        item = result.get('item')
        users = ', '.join(_text(app.get('name')) for app in present if app.get('python') == item)
        if result.get('rc', 1) != 0:
            lines = (result.get('stderr') or '').splitlines()
            why = lines[-1] if lines and lines[-1] else 'it does not exist or cannot run'
            errors.append('modwsgi_apps python %s (used by %s) cannot make virtualenvs on this host (%s). '
                          'Point python at an interpreter with the venv module (on Debian: python3-venv).'
                          % (_text(item), users, why))
        elif result.get('stdout') != built_for:
            stdout = _text(result.get('stdout'))
            errors.append('modwsgi_apps python %s (used by %s) is Python %s, but mod_wsgi on this host was built for Python %s, '
                          'and mod_wsgi can only run apps on the Python it was built for. Either build mod_wsgi for Python %s '
                          'with the server role (modwsgi_install_method: pip and modwsgi_python: %s), '
                          'or set python to a Python %s interpreter.'
                          % (_text(item), users, stdout, _text(built_for), stdout, _text(item), _text(built_for)))
    return errors


def tls_files(merged):
    """[label, path] of every certificate, key and chain of the present apps with tls, e.g. ['hello.tls.cert', '/etc/...']."""
    out = []
    for app in merged:
        tls = app.get('tls')
        if app.get('state') != 'present' or not tls:
            continue
        for key in ('cert', 'key', 'chain'):
            if _get(tls, key):
                out.append([_text(app.get('name')) + '.tls.' + key, tls[key]])
    return out


def missing_tls_files(stat_results):
    """The [label, path] items of ansible.builtin.stat loop results that are not regular files.

    The ones that do not exist come first, then those that exist but are no regular file.
    """
    results = list(stat_results or [])
    absent = [result.get('item') for result in results if 'isreg' not in (result.get('stat') or {})]
    other = [result.get('item') for result in results
             if 'isreg' in (result.get('stat') or {}) and not result['stat']['isreg']]
    return absent + other


def missing_tls_message(missing):
    """The message for the [label, path] items of missing TLS files."""
    return ('modwsgi_apps: %s, which is not a file on this host. Put the certificate, key and chain on the host first '
            '(for example with certbot or a copy task).' % ', '.join(' names '.join(_text(part) for part in item) for item in missing))


def tls_errors(stat_results):
    """[] or [the message naming every missing TLS file], from the stat loop over tls_files()."""
    missing = missing_tls_files(stat_results)
    return [missing_tls_message(missing)] if missing else []


# ---------------------------------------------------------------------------
# Daemon processes and virtual hosts (host.yml, sites.yml)
# ---------------------------------------------------------------------------

def daemon_option_sets(merged):
    """{name: (options, context)} of the present apps, for the daemon_options filter."""
    out = {}
    for app in merged:
        if app.get('state') != 'present':
            continue
        base = {
            'processes': app.get('processes'),
            'threads': app.get('threads'),
            'user': app.get('user'),
            'group': app.get('group'),
            'display-name': '%{GROUP}',
            'home': app['_current'],
            'python-home': app['_current'] + '/venv',
            'python-path': app['_src_current'] if app.get('_src_rel') else None,
            'lang': 'C.UTF-8',
            'locale': 'C.UTF-8',
        }
        base = combine(base, copy.deepcopy(DAEMON_TIMEOUTS))
        context = 'modwsgi_apps[%s] (%s).daemon_options' % (_text(app.get('index')), _text(app.get('name')))
        options = app.get('daemon_options')
        if options is None:
            options = {}
        if not isinstance(options, MutableMapping):
            raise TypeError('%s: expected a dictionary of WSGIDaemonProcess options (name: value), got %s'
                            % (context, type(options).__name__))
        out[app.get('name')] = (combine(base, options), context)
    return out


def daemon_lines(merged, mod_wsgi_version, render):
    """{name: WSGIDaemonProcess options} of the present apps.

    ``render`` is the daemon_options filter's function (options, mod_wsgi_version, context=...); it
    raises on an option that is unknown or that the installed mod_wsgi lacks, naming the app.
    """
    return dict((name, render(options, mod_wsgi_version, context=context))
                for name, (options, context) in daemon_option_sets(merged).items())


def sites(merged, lines, log_dir, default_listen):
    """The virtual hosts of the present apps, the extra ports to listen on and the managed files.

    One site per server_name and port (``_site``), its apps longest mount first, each without its
    secret_env and with its ``daemon_line`` (from ``lines``); its static aliases longest URL first. A
    site with an app that sets default_site gets a file name that Apache reads before the others.
    Returns {'sites': [...], 'listen_ports': [...], 'listen_files': [{port, file, define}],
    'wanted_files': [...], 'owners': {file: [app names]}}.
    """
    present = [app for app in merged if app.get('state') == 'present']
    out = []
    owners = {}
    for key, apps in _groupby(present, key=lambda app: app.get('_site')):
        ordered = []
        for app in _sorted(apps, key=lambda app: app.get('_mount_order'), reverse=True):
            if app.get('name') not in lines:
                raise KeyError('no WSGIDaemonProcess options were rendered for the app %s' % _text(app.get('name')))
            # No secret_env nor files in the sites: -v prints each site the template task writes.
            site_app = dict((name, value) for name, value in app.items() if name not in ('secret_env', 'files', '_files'))
            site_app['daemon_line'] = lines[app.get('name')]
            ordered.append(site_app)
        static = []
        for app in ordered:
            for item in _items(app.get('static')):
                path, url = item['path'], item['url']
                directory = path if _match('/', path) else app['_src_current'] + '/' + _text(path)
                static.append({'order': '%05d %s' % (len(url), url), 'url': url, 'dir': directory})
        first = apps[0]
        default_site = any(app.get('default_site') is True for app in apps)
        name = (DEFAULT_SITE_PREFIX if default_site else '') + 'modwsgi-' + _text(key) + '.conf'
        owners[name] = [_text(app.get('name')) for app in apps]
        out.append({
            'key': key,
            'define': 'MODWSGI_STAGED_' + re.sub(r'[^A-Z0-9]', '_', _text(key).upper()),
            'server_name': first.get('server_name'),
            'port': first.get('port'),
            'aliases': first.get('server_aliases'),
            'tls': first.get('tls'),
            'default_site': default_site,
            'apps': ordered,
            'static': _sorted(static, key=lambda item: item['order'], reverse=True),
            'log_prefix': _text(log_dir) + '/modwsgi-' + _text(key),
            'file': name,
        })
    ports = [app.get('port') for app in present] + [app['tls'].get('port') for app in present if app.get('tls')]
    listen = _sorted(_difference(_unique(_int(port) for port in ports), list(default_listen or [])))
    listen_files = [{'port': port, 'file': LISTEN_FILE % port, 'define': 'MODWSGI_STAGED_LISTEN_%s' % port} for port in listen]
    for item in listen_files:
        owners[item['file']] = [_text(app.get('name')) for app in present
                                if _int(app.get('port')) == item['port']
                                or (app.get('tls') and _int(app['tls'].get('port')) == item['port'])]
    wanted = [site['file'] for site in out] + [item['file'] for item in listen_files]
    return {'sites': out, 'listen_ports': listen, 'listen_files': listen_files, 'wanted_files': wanted, 'owners': owners}


# ---------------------------------------------------------------------------
# Releases and virtualenvs (release.yml, venv.yml, prune.yml)
# ---------------------------------------------------------------------------

def release_id(app, content_key, placed_files=None):
    """The 12 hex digits naming a release: its content and everything that changes how it is built.

    ``placed_files`` are the files placed into each release (release_files), each as {'rel', 'mode', 'checksum'}
    with the checksum of its rendered content: a change of one makes a new release.
    """
    source = app.get('source') or {}
    extra = dict((key, app.get(key)) for key in ('setup', 'shared', 'shared_files') if app.get(key))
    if placed_files:
        extra['files'] = [dict((key, item.get(key)) for key in ('rel', 'mode', 'checksum')) for item in placed_files]
    return _digest({
        'content': content_key,
        'subdir': source.get('subdir'),
        'requirements': app.get('requirements'),
        'python': app.get('python'),
        'entry_point': app.get('entry_point'),
        'pre_switch': app.get('pre_switch'),
    }, extra=extra)


def requirement_lines(app, requirements_text=None):
    """The requirements the venv gets: the requirements file's lines or the list, plus a pypi source's spec.

    ``requirements_text`` is the content of the requirements file, None when there is none (or when
    ``requirements`` is a list).
    """
    requirements = _requirements(app, requirements_text)
    lines = requirements.splitlines() if isinstance(requirements, str) else list(requirements or [])
    source = app.get('source') or {}
    return lines + ([source.get('spec')] if source.get('type') == 'pypi' else [])


def _requirements(app, requirements_text):
    requirements = app.get('requirements')
    if isinstance(requirements, str):
        return requirements_text
    return requirements


def requirements_are_local(lines):
    """Whether requirement lines point into the source, by pip's own rules.

    True for an option naming a file or a link (-r, -c, -e, -f and their long forms, or ``file:``), or
    a token that is a path (has a '/' but is no URL, starts with '.' or '~') or an archive.
    """
    for raw in lines or []:
        line = re.sub(r'(^|\s)#.*$', '', _text(raw)).strip()
        if re.match(r'(-[rcef]|--(requirement|constraint|editable|find-links))', line) or 'file:' in line:
            return True
        for token in re.sub(r'[\s=;,]+', ' ', line).split():
            if '://' in token:
                continue
            if '/' in token or re.match(r'[.~]', token) or re.search(r'\.(whl|zip|tgz|tar|tar\.gz|tar\.bz2|tar\.xz)$', token):
                return True
    return False


def venv_fingerprint(app, requirements_text, python_version, pip_extra_args, content_key):
    """The 12 hex digits naming a virtualenv: everything that decides what it holds.

    ``requirements_text`` is the requirements file's content (None without one), ``python_version``
    the X.Y the app's interpreter reported, ``content_key`` the source's own fingerprint, which only
    counts when the requirements point into the source.
    """
    source = app.get('source') or {}
    is_pypi = source.get('type') == 'pypi'
    return _digest({
        'python': app.get('python'),
        'python_version': python_version,
        'requirements': _requirements(app, requirements_text),
        'spec': source.get('spec') if is_pypi else None,
        'pip_extra_args': pip_extra_args,
        'source': content_key if requirements_are_local(requirement_lines(app, requirements_text)) else None,
    })


def prune_plan(app, releases, run_state):
    """The releases and virtualenvs of one app to remove (tasks/cleanup/prune.yml).

    ``releases`` is the app's ``releases`` and ``venvs`` as modwsgi.deploy.host_state read them at the
    start of the run (``{'releases': {id: {complete, mtime, venv}}, 'venvs': {fingerprint: {...}}}``);
    ``run_state`` is the app's entry of the role's state: ``release`` (this run's), ``venv_id`` (the
    venv this run built or linked it to), and ``current_link``/``previous_link`` as tasks/activate/switch.yml left
    them. Keeps the newest ``keep_releases`` complete releases, the linked ones and this run's; removes
    every other release directory, then every venv no kept release links to. Returns
    ``{'releases': [paths], 'venvs': [paths]}``, each sorted.
    """
    found = dict((key, dict(value)) for key, value in (releases.get('releases') or {}).items())
    venvs = set((releases.get('venvs') or {}).keys())
    this_run = _text(run_state.get('release') or '')
    if this_run and run_state.get('venv_id'):
        venvs.add(run_state['venv_id'])
    if this_run and (this_run not in found or not found[this_run].get('complete')):
        # Built by this run after the state was read: the newest release of all.
        found[this_run] = {'complete': True, 'mtime': float('inf'), 'venv': run_state.get('venv_id')}
    newest_first = sorted((key for key, value in found.items() if value.get('complete')),
                          key=lambda key: (found[key].get('mtime') or 0, key), reverse=True)
    linked = []
    for link in (run_state.get('current_link'), run_state.get('previous_link')):
        target = os.path.normpath(os.path.join(app['_dir'], _text(link))) if link else ''
        if os.path.dirname(target) == os.path.normpath(app['_releases']):
            linked.append(os.path.basename(target))
    keep = set(newest_first[:_int(app.get('keep_releases'))] + linked + ([this_run] if this_run else []))
    used = set(found[release].get('venv') for release in keep if release in found) - set([None])
    return {
        'releases': sorted(app['_releases'] + '/' + release for release in found if release not in keep),
        'venvs': sorted(app['_venvs'] + '/' + venv for venv in venvs if venv not in used),
    }


# ---------------------------------------------------------------------------
# What to read from the host, and whether what is there is what is wanted
# (tasks/deploy.yml, tasks/prepare/app_user.yml)
# ---------------------------------------------------------------------------

def directories(app, root_group):
    """The app's directories with the owner, group and mode each must have, parents first."""
    root = os.path.dirname(app['_dir'])
    wanted = [(root, 'root', root_group, '0755'),
              (app['_dir'], 'root', root_group, '0755'),
              (app['_releases'], 'root', root_group, '0755'),
              (app['_venvs'], 'root', root_group, '0755'),
              (app['_wsgi_dir'], 'root', root_group, '0755'),
              (app['_cache'], 'root', root_group, '0700'),
              (app['_data'], app['user'], app['group'], '0750'),
              (app['_config'], 'root', app['group'], '0750'),
              (app['_setup_records'], 'root', root_group, '0755')]
    return [{'path': path, 'owner': owner, 'group': group, 'mode': mode} for path, owner, group, mode in wanted]


def path_matches(entry, kind=None, checksum=None, owner=None, group=None, mode=None, target=None):
    """Whether a path as modwsgi.deploy.host_state read it is what is wanted (None: anything goes)."""
    if not entry:
        return False
    wanted = {'type': kind, 'checksum': checksum, 'owner': owner, 'group': group, 'mode': mode, 'target': target}
    return all(entry.get(key) == value for key, value in wanted.items() if value is not None)


def directories_to_fix(app, root_group, paths):
    """The app's directories whose type, owner, group or mode differ from what they must be."""
    return [wanted for wanted in directories(app, root_group)
            if not path_matches((paths or {}).get(wanted['path']), kind='directory', owner=wanted['owner'],
                                group=wanted['group'], mode=wanted['mode'])]


def host_query(apps, server, wanted_files, root=None):
    """What modwsgi.deploy.host_state must read for the apps: {'apps', 'paths', 'globs', 'contents'}.

    ``apps`` are the merged apps, present and absent; ``server`` the modwsgi_server facts;
    ``wanted_files`` the names of the configuration files the present apps need (app_sites); ``root``
    modwsgi_app_root, whose apps (this run's or not) and configuration file markers are read too.
    """
    query_apps = [{'name': app['name'], 'user': app['user'], 'group': app['group'], 'release_marker': RELEASE_MARKER,
                   'venv_marker_prefix': VENV_MARKER, 'verified_marker': VERIFIED_MARKER} for app in apps]
    paths = []
    globs = []
    contents = []
    for app in apps:
        if app.get('state') != 'present':
            continue
        paths.extend(wanted['path'] for wanted in directories(app, server.get('root_group', 'root')))
        paths.extend([app['_wsgi_file'], app['_env_file'], app['_secret_file']])
        paths.extend(item['path'] for item in host_files(app))
        paths.extend(app['_data'] + '/' + _text(path) for path in app.get('shared_files') or [])
        paths.extend(app.get('_data_dirs') or [])
        contents.append(app['_files_manifest'])
        globs.append(app['_setup_records'] + '/*')
    config_dirs = [directory for directory in (server.get('vhost_dir'), server.get('vhost_enabled_dir')) if directory]
    for name in wanted_files:
        paths.extend(directory + '/' + name for directory in config_dirs)
    globs.extend(directory + '/' + CONFIG_FILE_GLOB for directory in config_dirs)
    if root:
        globs.extend([_text(root) + '/*/' + CONFIG_OWNER_MARKER + '*', _text(root) + '/*/releases'])
    return {
        'apps': query_apps,
        'paths': list(dict.fromkeys(paths)),
        'globs': globs,
        'contents': contents,
    }


# ---------------------------------------------------------------------------
# Apps deployed by other runs, and the configuration files no app needs any more
# (tasks/deploy.yml, tasks/activate/vhosts.yml)
# ---------------------------------------------------------------------------

def deployed_apps(root, globbed):
    """The names of the apps with a releases directory under root, from host_state's globs."""
    pattern = _text(root) + '/*/releases'
    return sorted(os.path.basename(os.path.dirname(path)) for path in (globbed or {}).get(pattern) or [])


def config_owners(root, globbed):
    """{configuration file name: [app names]} from the owner markers in the apps' directories."""
    owners = {}
    for path in (globbed or {}).get(_text(root) + '/*/' + CONFIG_OWNER_MARKER + '*') or []:
        app = os.path.basename(os.path.dirname(path))
        owners.setdefault(os.path.basename(path)[len(CONFIG_OWNER_MARKER):], []).append(app)
    return dict((name, sorted(apps)) for name, apps in owners.items())


def config_plan(merged, site_model, server, root, globbed, purge=False):
    """What this run does about configuration files and apps that other runs may own.

    ``site_model`` is app_sites' result, ``globbed`` host_state's ``globs``. An app other runs
    deployed (found under root, not in modwsgi_apps) is left alone unless ``purge``; so is every
    configuration file it uses, and every file no marker names (written before 0.2.0 or by hand), except
    the site file a listed app's server_name and port name, which counts as that app's.
    Returns {'unlisted', 'purge', 'remove', 'conflicts', 'write_markers', 'remove_markers', 'unowned'}.
    """
    listed = set(_text(app.get('name')) for app in merged)
    absent = set(_text(app.get('name')) for app in merged if app.get('state') == 'absent')
    unlisted = [name for name in deployed_apps(root, globbed) if name not in listed]
    purged = set(unlisted) if purge else set()
    owners = config_owners(root, globbed)
    # Files written before markers existed (0.1.0): a listed app owns the site file its keys name.
    for app in merged:
        if app.get('server_name'):
            for prefix in ('', DEFAULT_SITE_PREFIX):
                owners.setdefault(prefix + 'modwsgi-' + _text(app.get('_site')) + '.conf', []).append(_text(app.get('name')))
    wanted = list(site_model.get('wanted_files') or [])
    wants_listen = any(item['file'] in wanted for item in site_model.get('listen_files') or [])
    config_dirs = [directory for directory in (server.get('vhost_dir'), server.get('vhost_enabled_dir')) if directory]
    found = [path for directory in config_dirs for path in (globbed or {}).get(directory + '/' + CONFIG_FILE_GLOB) or []]
    remove, unowned = [], []
    for path in found:
        name = os.path.basename(path)
        if name in wanted:
            continue
        if name == LEGACY_LISTEN_FILE:
            # Replaced by one file per port; both would open the same ports twice.
            if wants_listen:
                remove.append(path)
            continue
        named = set(owners.get(name) or [])
        keeping = [owner for owner in named if owner not in listed and owner not in purged]
        if not named:
            unowned.append(path)
        elif not keeping:
            remove.append(path)
    conflicts = []
    for site in site_model.get('sites') or []:
        others = [owner for owner in owners.get(site['file']) or [] if owner not in listed and owner not in purged]
        if others:
            conflicts.append('modwsgi_apps: %s would replace %s, which also serves %s, deployed by another run and not '
                             'listed here. List %s in this run too (with the same keys), or give these apps their own '
                             'server_name or port.' % (', '.join(app['name'] for app in site['apps']), site['file'],
                                                       ', '.join(others), 'it' if len(others) == 1 else 'them'))
    markers = set(path for path in (globbed or {}).get(_text(root) + '/*/' + CONFIG_OWNER_MARKER + '*') or [])
    want_markers = set()
    for name, apps in (site_model.get('owners') or {}).items():
        for app in apps:
            want_markers.add(_text(root) + '/' + app + '/' + CONFIG_OWNER_MARKER + name)
    present = set(_text(app.get('name')) for app in merged if app.get('state') == 'present')
    stale = [path for path in markers if path not in want_markers and os.path.basename(os.path.dirname(path)) in present]
    return {
        'unlisted': unlisted,
        'purge': sorted(purged),
        'remove': sorted(remove),
        'conflicts': conflicts,
        'write_markers': sorted(want_markers - markers),
        'remove_markers': sorted(stale),
        'unowned': sorted(unowned),
    }


# ---------------------------------------------------------------------------
# The app's directories in its environment, files and commands
# (tasks/release/build.yml, tasks/activate/wsgi_files.yml, tasks/prepare/files.yml)
# ---------------------------------------------------------------------------

def directory_values(app, release_src=None):
    """The values of DIRECTORY_NAMES for the app; MODWSGI_APP_RELEASE is ``release_src`` or the serving one."""
    return {
        'MODWSGI_APP': _text(app['name']),
        'MODWSGI_APP_ROOT': app['_dir'],
        'MODWSGI_APP_DATA': app['_data'],
        'MODWSGI_APP_CONFIG': app['_config'],
        'MODWSGI_APP_RELEASE': release_src or app['_src_current'],
    }


def expand(value, values):
    """``value`` with each ${NAME} of ``values`` replaced, in strings and inside lists and dicts; nothing else changes."""
    if isinstance(value, str):
        return DIRECTORY_REFERENCE.sub(lambda match: values.get(match.group(1), match.group(0)), value)
    if isinstance(value, Mapping):
        return dict((key, expand(item, values)) for key, item in value.items())
    if isinstance(value, list):
        return [expand(item, values) for item in value]
    return value


def setup_id(command):
    """The name of the record a setup command leaves: the SHA-1 of its text as written (before expansion)."""
    return hashlib.sha1(_text(command).encode('utf-8')).hexdigest()


def runtime(app, release_src=None, setup_records=None):
    """The app's environment and commands with its directories expanded, for one release.

    ``release_src`` is the source directory of the release being built (default: the serving one),
    ``setup_records`` the paths host_state found under the app's setup records. Returns
    {'directories', 'env' (the app's env, expanded, plus the directories), 'setup' ([{id, command,
    written}]), 'setup_pending' (those without a record), 'pre_switch'}.
    """
    values = directory_values(app, release_src)
    env = combine(expand(app.get('env') or {}, values), values)
    done = set(os.path.basename(path) for path in setup_records or [])
    setup = [{'id': setup_id(command), 'command': expand(command, values), 'written': command}
             for command in app.get('setup') or []]
    return {
        'directories': values,
        'env': env,
        'setup': setup,
        'setup_pending': [item for item in setup if item['id'] not in done],
        'pre_switch': expand(list(app.get('pre_switch') or []), values),
    }


# ---------------------------------------------------------------------------
# A configuration file Apache refused (tasks/activate/vhosts.yml)
# ---------------------------------------------------------------------------

def rejected_config_message(failed_result):
    """The message for the failed template task(s) of the vhosts: which file, and what Apache said."""
    results = failed_result.get('results') or [failed_result]
    failed = [result for result in results if result.get('failed')]
    files = [(result.get('site') or {}).get('file') or (result.get('listen') or {}).get('file') or 'A Listen file'
             for result in failed]
    errors = [' '.join(_text(result.get('stderr') or result.get('msg') or '').split()) for result in failed]
    return ("%s failed Apache's configuration check and was not written; the live configuration and the serving "
            "releases are unchanged. Apache said: %s -- check the extra_directives, tls and static settings of the "
            "apps on that host name." % (', '.join(files), ' | '.join(errors)))
