#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
---
module: mod_wsgi_info
short_description: Gather facts about Apache httpd and its mod_wsgi module
version_added: 0.1.0
description:
  - Inspects the Apache HTTP Server installed on the target and the mod_wsgi module it is configured to load.
  - Reports the Apache version and MPM, the mod_wsgi shared object that the configuration loads, the mod_wsgi
    version compiled into that file, the Python X.Y it was built for, whether Apache currently loads it, and the
    location of C(apxs).
  - The Apache version and MPM are read from C(apachectl -V). On Debian family systems C(apache2ctl) must be used
    because it sources C(/etc/apache2/envvars); the httpd binary itself is only used when the control script is
    missing or refuses the request (the RHEL C(apachectl) wrapper only accepts a few actions).
  - The mod_wsgi file is located by reading every configuration file listed by C(apachectl -t -D DUMP_INCLUDES)
    and taking the first active C(LoadModule wsgi_module) directive. Relative paths are resolved against
    C(ServerRoot).
  - The mod_wsgi version is read from the shared object itself; when that fails, a C(mod_wsgi-*.dist-info)
    directory next to a pip-built module is used.
  - The Python version is derived, in this order, from the Debian C(mod_wsgi.so-X.Y) symlink target, the
    pip build file name (C(mod_wsgi-pyXY.*.so)), the C(libpythonX.Y) dependency recorded in the ELF file, and
    finally the output of C(ldd).
  - The module never changes anything on the target. It returns its report as ordinary results and sets no facts;
    register it, or use the C(modwsgi_info) fact that the modwsgi.deploy.server role publishes from it.
  - Fails when neither an Apache control script nor an Apache binary can be found. When Apache is present but
    mod_wsgi is not, the module succeeds with O(ignore:mod_wsgi.path) set to V(null).
author: modwsgi.deploy contributors (!UNKNOWN)
options:
  apachectl:
    description:
      - Name or path of the Apache control script.
      - When omitted, the first of C(apache2ctl) and C(apachectl) found in E(PATH), C(/usr/sbin),
        C(/usr/local/sbin), C(/usr/pkg/sbin), C(/opt/local/sbin) or C(/usr/bin) is used.
    type: str
  apache_binary:
    description:
      - Name or path of the Apache httpd binary.
      - When omitted, the first of C(apache2) and C(httpd) found in the same directories as O(apachectl) is used.
    type: str
  module_path:
    description:
      - Path of the mod_wsgi shared object to inspect when no C(LoadModule wsgi_module) directive can be found
        in the Apache configuration.
      - Ignored when the configuration names a mod_wsgi file.
    type: path
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
  - Running the Apache configuration dump usually requires root privileges because Apache opens its log and
    certificate files while parsing the configuration; use O(ignore:become=true) when needed.
seealso:
  - name: mod_wsgi documentation
    description: Documentation of the mod_wsgi Apache module.
    link: https://modwsgi.readthedocs.io/
"""

EXAMPLES = r"""
- name: Inspect Apache and mod_wsgi
  modwsgi.deploy.mod_wsgi_info:
  register: wsgi

- name: Make sure mod_wsgi is built for the Python version the application needs
  ansible.builtin.assert:
    that:
      - wsgi.mod_wsgi.path is not none
      - wsgi.mod_wsgi.python_version == '3.13'
    fail_msg: "mod_wsgi {{ wsgi.mod_wsgi.version }} is built for Python {{ wsgi.mod_wsgi.python_version }}"

- name: Inspect a pip-built mod_wsgi that is not configured yet
  modwsgi.deploy.mod_wsgi_info:
    module_path: /opt/app/venv/lib/python3.13/site-packages/mod_wsgi/server/mod_wsgi-py313.cpython-313-x86_64-linux-gnu.so

- name: Use a self-compiled Apache
  modwsgi.deploy.mod_wsgi_info:
    apachectl: /usr/local/apache2/bin/apachectl
    apache_binary: /usr/local/apache2/bin/httpd

- name: Keep the report for later plays
  ansible.builtin.set_fact:
    apache_report: "{{ wsgi.apache }}"
    cacheable: true
"""

RETURN = r"""
apache:
  description: Information about the Apache HTTP Server.
  returned: always
  type: dict
  contains:
    binary:
      description: Path of the Apache httpd binary, V(null) when none was found.
      returned: always
      type: str
      sample: /usr/sbin/apache2
    apachectl:
      description: Path of the Apache control script, V(null) when none was found.
      returned: always
      type: str
      sample: /usr/sbin/apache2ctl
    version:
      description: Apache version from C(-V) output, V(null) when it could not be determined.
      returned: always
      type: str
      sample: 2.4.62
    mpm:
      description: Multi-processing module in use, V(null) when it could not be determined.
      returned: always
      type: str
      sample: event
mod_wsgi:
  description: Information about the mod_wsgi module.
  returned: always
  type: dict
  contains:
    path:
      description:
        - Path of the mod_wsgi shared object as named by the Apache configuration (made absolute), or the
          O(module_path) option when the configuration does not name one.
        - V(null) when no mod_wsgi file was found.
      returned: always
      type: str
      sample: /usr/lib/apache2/modules/mod_wsgi.so
    realpath:
      description: O(ignore:mod_wsgi.path) with all symbolic links resolved, V(null) when the file does not exist.
      returned: always
      type: str
      sample: /usr/lib/apache2/modules/mod_wsgi.so-3.13
    version:
      description: mod_wsgi version, V(null) when it could not be determined.
      returned: always
      type: str
      sample: 5.0.2
    python_version:
      description: Python C(X.Y) version mod_wsgi was built for, V(null) when it could not be determined.
      returned: always
      type: str
      sample: "3.13"
    python_version_source:
      description: How RV(mod_wsgi.python_version) was determined, V(null) when it was not.
      returned: always
      type: str
      choices:
        - debian_symlink
        - pip_filename
        - elf
        - ldd
      sample: debian_symlink
    loaded:
      description: Whether C(wsgi_module) appears in the list of modules Apache loads (C(apachectl -M)).
      returned: always
      type: bool
      sample: true
apxs:
  description: Path of the C(apxs) (or C(apxs2)) tool needed to build mod_wsgi with pip, V(null) when not installed.
  returned: always
  type: str
  sample: /usr/bin/apxs
"""

import glob
import os
import re

from ansible.module_utils.basic import AnsibleModule


SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/pkg/sbin', '/opt/local/sbin', '/usr/bin']
APACHECTL_NAMES = ('apache2ctl', 'apachectl')
BINARY_NAMES = ('apache2', 'httpd')
APXS_NAMES = ('apxs', 'apxs2')

COMMAND_ENV = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}

# Shared objects bigger than this are not read into memory.
MAX_MODULE_SIZE = 64 * 1024 * 1024
# Upper bound for the include walk used when Apache cannot dump its includes.
MAX_CONFIG_FILES = 1000

_SERVER_VERSION_RE = re.compile(r'^[ \t]*Server version:[ \t]*[^/\s]*/(\d+(?:\.\d+)+)', re.MULTILINE)
_SERVER_MPM_RE = re.compile(r'^[ \t]*Server MPM:[ \t]*(\S+)', re.MULTILINE)
_COMPILE_DEFINE_RE = re.compile(r'^[ \t]*-D[ \t]+([A-Za-z_][A-Za-z0-9_]*)="([^"\n]*)"', re.MULTILINE)
_INCLUDE_LINE_RE = re.compile(r'^\s*\((?:\*|\d+)\)\s+(\S.*?)\s*$')
_MODULE_LINE_RE = re.compile(r'^[ \t]*([A-Za-z0-9_]+_module)[ \t]+\((?:static|shared)\)', re.MULTILINE)

_WSGI_VERSION_RES = (
    # mod_wsgi 4.x/5.x and later: the version string is stored right before the
    # "mod_wsgi/%s" format string used to build the server banner.
    re.compile(br'\x00(\d+\.\d+(?:\.\d+)*[0-9A-Za-z.+-]*)\x00mod_wsgi/%s\x00'),
    # Older builds embed the complete banner.
    re.compile(br'mod_wsgi/(\d+\.\d+(?:\.\d+)*[0-9A-Za-z.+-]*)\x00'),
)
_DIST_INFO_RE = re.compile(
    r'^mod[-_]wsgi(?:[-_]standalone)?-(\d[^-]*?)(?:-py\d[\d.]*)?\.(?:dist|egg)-info$', re.IGNORECASE)
_DEBIAN_NAME_RE = re.compile(r'^mod_wsgi\S*-(\d+)\.(\d+)$')
_PIP_NAME_RES = (
    re.compile(r'^mod_wsgi-py(\d)(\d+)\.'),
    re.compile(r'^mod_wsgi\S*\.cpython-(\d)(\d+)'),
)
_LIBPYTHON_RE = re.compile(r'libpython(\d+)\.(\d+)')
_LIBPYTHON_BYTES_RE = re.compile(br'libpython(\d+)\.(\d+)')


# ---------------------------------------------------------------------------
# Pure helpers (no host access); unit tested directly.
# ---------------------------------------------------------------------------

def parse_version_output(text):
    """Parse the output of ``httpd -V``.

    Returns a dict with ``version``, ``mpm``, ``httpd_root`` and ``server_config_file``; each is None
    when missing from the output.
    """
    text = text or ''
    result = {'version': None, 'mpm': None, 'httpd_root': None, 'server_config_file': None}
    match = _SERVER_VERSION_RE.search(text)
    if match:
        result['version'] = match.group(1)
    match = _SERVER_MPM_RE.search(text)
    if match:
        result['mpm'] = match.group(1).lower()
    for name, value in _COMPILE_DEFINE_RE.findall(text):
        if name == 'HTTPD_ROOT':
            result['httpd_root'] = value
        elif name == 'SERVER_CONFIG_FILE':
            result['server_config_file'] = value
    return result


def parse_includes(text):
    """Return the configuration files listed by ``httpd -t -D DUMP_INCLUDES``, in order, without duplicates."""
    files = []
    for line in (text or '').splitlines():
        match = _INCLUDE_LINE_RE.match(line)
        if match and match.group(1) not in files:
            files.append(match.group(1))
    return files


def parse_loaded_modules(text):
    """Return the module names listed by ``httpd -M`` (for example ``wsgi_module``)."""
    return _MODULE_LINE_RE.findall(text or '')


def config_lines(text):
    """Yield the logical lines of an Apache configuration file.

    Backslash continuations are joined, surrounding whitespace is stripped and comment and blank lines are
    skipped.
    """
    pending = ''
    for raw in (text or '').splitlines():
        line = raw.rstrip()
        if line.endswith('\\'):
            pending += line[:-1] + ' '
            continue
        line = (pending + line).strip()
        pending = ''
        if line and not line.startswith('#'):
            yield line
    pending = pending.strip()
    if pending and not pending.startswith('#'):
        yield pending


def _first_argument(rest):
    """Return the first (possibly quoted) argument of a directive, without its quotes."""
    rest = rest.strip()
    if rest[:1] in ('"', "'"):
        end = rest.find(rest[0], 1)
        return rest[1:end] if end > 0 else rest[1:]
    return rest.split()[0] if rest else None


def _directive_argument(line, directive):
    """Return the first argument of ``line`` when it is ``directive`` (case-insensitive), else None."""
    parts = line.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != directive.lower():
        return None
    return _first_argument(parts[1])


def find_loadmodule(text, module_name='wsgi_module'):
    """Return the (unquoted) file argument of the first active ``LoadModule <module_name>`` line, or None."""
    for line in config_lines(text):
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].lower() == 'loadmodule' and parts[1] == module_name:
            return _first_argument(parts[2])
    return None


def find_server_root(text):
    """Return the argument of the first active ``ServerRoot`` directive, or None."""
    for line in config_lines(text):
        value = _directive_argument(line, 'ServerRoot')
        if value:
            return value
    return None


def find_includes(text):
    """Return the arguments of active ``Include`` and ``IncludeOptional`` directives."""
    found = []
    for line in config_lines(text):
        for directive in ('Include', 'IncludeOptional'):
            value = _directive_argument(line, directive)
            if value:
                found.append(value)
    return found


def resolve_path(path, server_root):
    """Make ``path`` absolute, relative paths being taken relative to ``server_root`` (as Apache does)."""
    if path is None:
        return None
    if os.path.isabs(path) or not server_root:
        return path
    return os.path.normpath(os.path.join(server_root, path))


def read_wsgi_version(data):
    """Extract the mod_wsgi version string from the bytes of a mod_wsgi shared object."""
    if not data:
        return None
    for regex in _WSGI_VERSION_RES:
        match = regex.search(data)
        if match:
            return match.group(1).decode('ascii', 'replace')
    return None


def version_from_dist_info(names):
    """Return the mod_wsgi version encoded in a ``mod_wsgi-<ver>.dist-info`` (or egg-info) directory name."""
    for name in sorted(names):
        match = _DIST_INFO_RE.match(name)
        if match:
            return match.group(1)
    return None


def python_from_debian_symlink(realpath):
    """Debian installs ``mod_wsgi.so`` as a symlink to ``mod_wsgi.so-X.Y``."""
    if not realpath:
        return None
    match = _DEBIAN_NAME_RE.match(os.path.basename(realpath))
    if match:
        return '%s.%s' % match.groups()
    return None


def python_from_pip_filename(path):
    """pip builds are named ``mod_wsgi-pyXY.cpython-XY-<platform>.so``."""
    if not path:
        return None
    name = os.path.basename(path)
    for regex in _PIP_NAME_RES:
        match = regex.match(name)
        if match:
            return '%s.%s' % match.groups()
    return None


def python_from_elf(data):
    """Find the ``libpythonX.Y`` shared library dependency recorded in the file."""
    if not data:
        return None
    match = _LIBPYTHON_BYTES_RE.search(data)
    if match:
        return '%s.%s' % (match.group(1).decode('ascii'), match.group(2).decode('ascii'))
    return None


def python_from_ldd(text):
    """Find ``libpythonX.Y`` in ``ldd`` output."""
    match = _LIBPYTHON_RE.search(text or '')
    if match:
        return '%s.%s' % match.groups()
    return None


def python_version_for(path, realpath, data, ldd=None):
    """Determine the Python X.Y a mod_wsgi file was built for.

    ``ldd`` is an optional callable returning the ``ldd`` output for the file; it is only called when the
    cheaper methods fail. Returns a ``(version, source)`` tuple, ``(None, None)`` when unknown.
    """
    version = python_from_debian_symlink(realpath)
    if version:
        return version, 'debian_symlink'
    for candidate in (path, realpath):
        version = python_from_pip_filename(candidate)
        if version:
            return version, 'pip_filename'
    version = python_from_elf(data)
    if version:
        return version, 'elf'
    if ldd is not None:
        version = python_from_ldd(ldd())
        if version:
            return version, 'ldd'
    return None, None


# ---------------------------------------------------------------------------
# Host access
# ---------------------------------------------------------------------------

def read_text(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return ''


def read_bytes(path):
    try:
        if os.path.getsize(path) > MAX_MODULE_SIZE:
            return b''
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return b''


def collect_config_files(main_config, server_root):
    """Follow Include/IncludeOptional directives starting at ``main_config``.

    Only used when Apache itself cannot list its configuration files. A ``ServerRoot`` directive met on
    the way replaces ``server_root``; directives containing ``${...}`` variables are skipped. Returns the
    files in the order Apache would read them.
    """
    ordered = []
    root = [server_root]

    def visit(path):
        if len(ordered) >= MAX_CONFIG_FILES or path in ordered or not os.path.isfile(path):
            return
        ordered.append(path)
        text = read_text(path)
        root[0] = find_server_root(text) or root[0]
        for pattern in find_includes(text):
            if '${' in pattern:
                continue
            pattern = resolve_path(pattern, root[0])
            if os.path.isdir(pattern):
                pattern = os.path.join(pattern, '*')
            for item in sorted(glob.glob(pattern)):
                visit(item)

    visit(main_config)
    return ordered


def find_dist_info_version(so_path, max_levels=4):
    """Look for a ``mod_wsgi-*.dist-info`` directory in the directories above a pip-built module."""
    directory = os.path.dirname(so_path)
    for dummy in range(max_levels):
        try:
            version = version_from_dist_info(os.listdir(directory))
        except (IOError, OSError):
            version = None
        if version:
            return version
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None


def find_command(module, requested, candidates):
    """Resolve a command: the requested name/path when given, else the first candidate found."""
    names = [requested] if requested else list(candidates)
    for name in names:
        path = module.get_bin_path(name, opt_dirs=SEARCH_DIRS)
        if path:
            return path
    return None


def run_apache(module, commands, args, parse, accept_failure=False):
    """Run ``args`` with each Apache command in turn and return the first useful parsed stdout.

    The RHEL ``apachectl`` wrapper rejects most arguments and the Debian ``apache2`` binary cannot parse the
    configuration without the variables from ``/etc/apache2/envvars``, so the next command is tried when one
    fails. Output of a failing command is only used when ``accept_failure`` is true (it is still good enough
    for the version banner, but a configuration dump would be incomplete). Returns None when nothing parsed.
    """
    fallback = None
    for command in commands:
        rc, out, dummy = module.run_command([command] + list(args), environ_update=COMMAND_ENV)
        parsed = parse(out or '')
        if parsed and rc == 0:
            return parsed
        if parsed and accept_failure and fallback is None:
            fallback = parsed
    return fallback


def _known_version(text):
    info = parse_version_output(text)
    return info if info['version'] else None


def gather(module):
    params = module.params

    apachectl = find_command(module, params['apachectl'], APACHECTL_NAMES)
    binary = find_command(module, params['apache_binary'], BINARY_NAMES)

    if params['apachectl'] and not apachectl:
        module.fail_json(msg='The Apache control script %r given in apachectl was not found (searched PATH and %s).'
                         % (params['apachectl'], ', '.join(SEARCH_DIRS)))
    if params['apache_binary'] and not binary:
        module.fail_json(msg='The Apache binary %r given in apache_binary was not found (searched PATH and %s).'
                         % (params['apache_binary'], ', '.join(SEARCH_DIRS)))
    if not apachectl and not binary:
        module.fail_json(msg='Apache httpd was not found: searched for the commands %s in PATH and %s.'
                         % (', '.join(APACHECTL_NAMES + BINARY_NAMES), ', '.join(SEARCH_DIRS)))

    # The control script comes first: on Debian only it sets up the environment from /etc/apache2/envvars.
    commands = [command for command in (apachectl, binary) if command]

    version_info = run_apache(module, commands, ['-V'], _known_version, accept_failure=True)
    if not version_info:
        module.warn('Could not determine the Apache version from "%s -V".' % commands[0])
        version_info = parse_version_output('')

    apache = {
        'binary': binary,
        'apachectl': apachectl,
        'version': version_info['version'],
        'mpm': version_info['mpm'],
    }

    # Configuration files, in the order Apache reads them.
    httpd_root = version_info['httpd_root']
    config_files = run_apache(module, commands, ['-t', '-D', 'DUMP_INCLUDES'], parse_includes)
    if not config_files:
        main_config = resolve_path(version_info['server_config_file'], httpd_root)
        config_files = collect_config_files(main_config, httpd_root) if main_config else []
    texts = [read_text(resolve_path(path, httpd_root)) for path in config_files]

    server_root = httpd_root
    for text in texts:
        value = find_server_root(text)
        if value:
            server_root = value
            break

    so_path = None
    for text in texts:
        value = find_loadmodule(text)
        if value:
            so_path = resolve_path(value, server_root)
            break
    if so_path is None and params['module_path']:
        so_path = params['module_path']
        if not os.path.exists(so_path):
            module.fail_json(msg='module_path %s does not exist.' % so_path, apache=apache)

    loaded_modules = run_apache(module, commands, ['-M'], parse_loaded_modules)
    if loaded_modules is None:
        module.warn('Could not list the modules Apache loads ("%s -M" failed); mod_wsgi.loaded is reported as false.'
                    % commands[0])

    wsgi = {
        'path': so_path,
        'realpath': None,
        'version': None,
        'python_version': None,
        'python_version_source': None,
        'loaded': 'wsgi_module' in (loaded_modules or []),
    }

    if so_path:
        if os.path.exists(so_path):
            realpath = os.path.realpath(so_path)
            data = read_bytes(realpath)
            wsgi['realpath'] = realpath
            wsgi['version'] = read_wsgi_version(data) or find_dist_info_version(realpath)

            def ldd():
                ldd_bin = module.get_bin_path('ldd')
                if not ldd_bin:
                    return ''
                rc, out, dummy = module.run_command([ldd_bin, realpath], environ_update=COMMAND_ENV)
                return out if rc == 0 else ''

            wsgi['python_version'], wsgi['python_version_source'] = python_version_for(so_path, realpath, data, ldd)
        else:
            module.warn('The Apache configuration loads mod_wsgi from %s, but that file does not exist.' % so_path)

    apxs = find_command(module, None, APXS_NAMES)

    return {'apache': apache, 'mod_wsgi': wsgi, 'apxs': apxs}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            apachectl=dict(type='str'),
            apache_binary=dict(type='str'),
            module_path=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    info = gather(module)
    module.exit_json(changed=False, **info)


if __name__ == '__main__':
    main()
