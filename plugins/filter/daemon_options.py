# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
---
name: daemon_options
short_description: Render the options of a mod_wsgi C(WSGIDaemonProcess) directive
version_added: 0.1.0
author: modwsgi.deploy contributors (!UNKNOWN)
description:
  - Turns a dictionary of C(WSGIDaemonProcess) options into the C(name=value) words that follow the daemon
    process group name, checked against the mod_wsgi version that is installed.
  - Options are rendered in the order of the dictionary. An option whose value is V(null) is left out, which
    lets a user drop an option that a default would otherwise set.
  - Integers are rendered in decimal. A list is accepted for C(python-path) (joined with colons) and
    C(supplementary-groups) (joined with commas) only. Booleans are accepted for C(server-metrics) only, the
    one option that takes C(On) or C(Off). Other values must be strings or integers.
  - 'A value made only of letters, digits and the characters C(_ . / : % { } @ + , - =) is written as it is.
    Any other value is written as C(name="value"), with backslashes and double quotes escaped by a backslash.
    mod_wsgi reads the option name up to the first C(=) and then the value with the C(ap_getword_conf)
    function of Apache, so the quotes go around the value and never around the whole word. Values with
    newlines or other control characters are rejected.'
  - Apache replaces C(${NAME}) by the value of a C(Define) anywhere on a configuration line, even inside
    quotes; the filter leaves such text alone.
  - Fails, with a message that starts with O(context), when an option is unknown, when the installed
    mod_wsgi is too old for it or no longer has it (C(newrelic-config-file) and C(newrelic-environment) were
    removed in mod_wsgi 6.0), when a value has the wrong type or range, or when O(_input) is not a dictionary.
  - 'Numeric options take a non-negative integer (a string of digits is accepted too): C(processes),
    C(threads) and C(stack-size) at least 1; C(send-buffer-size) and C(receive-buffer-size) 0 or at least
    512; C(header-buffer-size) 0 or at least 8192; C(response-buffer-size) 0 or at least 65536;
    C(cpu-priority) from -20 to 20; C(switch-interval) a positive number of seconds. C(umask) is an octal
    string such as V(0022), quoted in YAML, never an integer.'
  - C(user) cannot be root, and only one of C(script-user) and C(script-group) may be set, as mod_wsgi requires.
  - mod_wsgi 6.0 reworked C(request-timeout) (each thread is judged on its own, and the limit grows with the
    natural logarithm of C(threads) instead of being compared with the average over all threads), added
    C(interrupt-timeout), which chooses how a process recovers from a request timeout, and C(switch-interval),
    and removed the New Relic options. Review C(request-timeout) and C(response-buffer-size) when the installed
    mod_wsgi moves across 6.0.
  - The C(threads=0) service-script mode of mod_wsgi is not supported; this filter is meant for daemon
    process groups that serve a WSGI application.
positional: _input, mod_wsgi_version
options:
  _input:
    description:
      - Option name to value, in the order to render. Names are the C(WSGIDaemonProcess) option names, for
        example C(processes), C(python-home) or C(display-name).
    type: dict
    required: true
  mod_wsgi_version:
    description:
      - Version of the installed mod_wsgi, for example V(4.9.4), V(5.0.2) or V(6.1.1), as reported by
        M(modwsgi.deploy.mod_wsgi_info) in RV(modwsgi.deploy.mod_wsgi_info#module:mod_wsgi.version).
    type: str
    required: true
  context:
    description:
      - Text that starts every error message, so that a failure names the variable that holds the options.
    type: str
    default: daemon_options
seealso:
  - module: modwsgi.deploy.mod_wsgi_info
  - name: WSGIDaemonProcess directive
    description: The mod_wsgi documentation of every option.
    link: https://modwsgi.readthedocs.io/en/latest/configuration-directives/WSGIDaemonProcess.html
"""

EXAMPLES = r"""
- name: Write the daemon process group of an application
  ansible.builtin.copy:
    dest: /etc/apache2/sites-available/myapp.conf
    content: |
      WSGIDaemonProcess myapp {{ options | modwsgi.deploy.daemon_options(wsgi.mod_wsgi.version, context='myapp') }}
  vars:
    options:
      processes: 2
      threads: 15
      display-name: "%{GROUP}"
      python-home: /srv/myapp/venv
      python-path: [/srv/myapp/current/src, /srv/my app/lib]
      request-timeout: 60
      newrelic-config-file: null   # left out
  # WSGIDaemonProcess myapp processes=2 threads=15 display-name=%{GROUP} python-home=/srv/myapp/venv
  #   python-path="/srv/myapp/current/src:/srv/my app/lib" request-timeout=60

- name: Render the options of one entry of modwsgi_apps, naming it in error messages
  ansible.builtin.set_fact:
    myapp_daemon_line: >-
      {{ myapp.daemon_options | modwsgi.deploy.daemon_options(mod_wsgi_version,
                                                             context='modwsgi_apps[myapp].daemon_options') }}
  vars:
    mod_wsgi_version: "{{ ansible_facts.modwsgi_info.mod_wsgi.version }}"
# With mod_wsgi 6.1.1 and myapp.daemon_options = {newrelic-environment: prod} this fails with
# "modwsgi_apps[myapp].daemon_options: option 'newrelic-environment' was removed in mod_wsgi 6.0, installed 6.1.1; ..."
"""

RETURN = r"""
_value:
  description:
    - The options as space separated C(name=value) words, ready to follow the process group name of a
      C(WSGIDaemonProcess) directive. An empty string when every option is V(null) or the dictionary is empty.
  type: str
  sample: 'processes=2 threads=15 display-name=%{GROUP} python-path="/srv/a b"'
"""

import difflib
import math
import re
import unicodedata

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


# ---------------------------------------------------------------------------
# The option table.
#
# Sources (mod_wsgi's own repository, github.com/GrahamDumpleton/mod_wsgi):
#   * the option list parsed by wsgi_add_daemon_process(): src/server/mod_wsgi.c (4.x/5.x, which still has
#     newrelic-config-file and newrelic-environment) and its 6.x successor, which no longer has them;
#   * docs/configuration-directives/WSGIDaemonProcess.rst (6.x: adds interrupt-timeout, switch-interval);
#   * docs/release-notes/version-4.1.0.rst (supplementary-groups, graceful-timeout, memory-limit,
#     virtual-memory-limit, request-timeout, connect-timeout, socket-timeout, queue-timeout, listen-backlog,
#     header-buffer-size), version-4.4.1.rst (socket-user), version-4.4.7.rst (eviction-timeout;
#     proxy-buffer-size renamed response-buffer-size), version-4.5.6.rst (startup-timeout),
#     version-4.5.12.rst (restart-interval), version-4.5.13.rst (response-socket-timeout),
#     version-6.0.0.rst (interrupt-timeout, switch-interval, request-timeout reworked, New Relic support
#     removed).
# Options whose first release is not recorded in those notes (the 1.x-3.x options, and lang, locale,
# python-home, cpu-priority, script-user, script-group, server-metrics, newrelic-*) are treated as
# available since 4.0.
#
# Each entry: name -> (kind, first version, version that removed it or None, kind argument).
# Kinds:
#   count     integer >= 1
#   int       integer >= 0
#   buffer    integer, 0 (the default) or >= the minimum given as argument
#   priority  integer from -20 to 20
#   seconds   number > 0 (float allowed)
#   onoff     On/Off, a boolean is accepted
#   octal     octal digits as a string (a YAML integer like 0022 would already have lost its meaning)
#   path      absolute path
#   str       any string
#   list      string, or a list of strings joined with the separator given as argument
# ---------------------------------------------------------------------------

V4_0 = (4, 0, 0)

OPTIONS = {
    'user': ('str', V4_0, None, None),
    'group': ('str', V4_0, None, None),
    'supplementary-groups': ('list', (4, 1, 0), None, ','),
    'processes': ('count', V4_0, None, None),
    # mod_wsgi accepts threads=0 (service-script mode, no requests); not useful for a WSGI application.
    'threads': ('count', V4_0, None, None),
    'umask': ('octal', V4_0, None, None),
    'chroot': ('path', V4_0, None, None),
    'home': ('path', V4_0, None, None),
    'lang': ('str', V4_0, None, None),
    'locale': ('str', V4_0, None, None),
    'python-home': ('str', V4_0, None, None),
    'python-path': ('list', V4_0, None, ':'),
    'python-eggs': ('str', V4_0, None, None),
    'switch-interval': ('seconds', (6, 0, 0), None, None),
    'stack-size': ('count', V4_0, None, None),
    'maximum-requests': ('int', V4_0, None, None),
    'startup-timeout': ('int', (4, 5, 6), None, None),
    'shutdown-timeout': ('int', V4_0, None, None),
    'deadlock-timeout': ('int', V4_0, None, None),
    'inactivity-timeout': ('int', V4_0, None, None),
    'request-timeout': ('int', (4, 1, 0), None, None),
    'interrupt-timeout': ('int', (6, 0, 0), None, None),
    'graceful-timeout': ('int', (4, 1, 0), None, None),
    'eviction-timeout': ('int', (4, 4, 7), None, None),
    'restart-interval': ('int', (4, 5, 12), None, None),
    'connect-timeout': ('int', (4, 1, 0), None, None),
    'socket-timeout': ('int', (4, 1, 0), None, None),
    'queue-timeout': ('int', (4, 1, 0), None, None),
    'listen-backlog': ('int', (4, 1, 0), None, None),
    'socket-user': ('str', (4, 4, 1), None, None),
    'display-name': ('str', V4_0, None, None),
    'send-buffer-size': ('buffer', V4_0, None, 512),
    'receive-buffer-size': ('buffer', V4_0, None, 512),
    'header-buffer-size': ('buffer', (4, 1, 0), None, 8192),
    'response-buffer-size': ('buffer', (4, 4, 7), None, 65536),
    'response-socket-timeout': ('int', (4, 5, 13), None, None),
    'script-user': ('str', V4_0, None, None),
    'script-group': ('str', V4_0, None, None),
    'cpu-time-limit': ('int', V4_0, None, None),
    'cpu-priority': ('priority', V4_0, None, None),
    'memory-limit': ('int', (4, 1, 0), None, None),
    'virtual-memory-limit': ('int', (4, 1, 0), None, None),
    'server-metrics': ('onoff', V4_0, None, None),
    'newrelic-config-file': ('str', V4_0, (6, 0, 0), None),
    'newrelic-environment': ('str', V4_0, (6, 0, 0), None),
}

# A value made only of these characters is written unquoted.
_SAFE_VALUE_RE = re.compile(r'^[A-Za-z0-9_./:%{}@+,=-]+$')
_VERSION_RE = re.compile(r'^(\d+)\.(\d+)(?:\.(\d+))?(?:[.+~-]?[0-9A-Za-z][0-9A-Za-z.+~-]*)?$')
_UNSIGNED_RE = re.compile(r'^[0-9]+$')
_SIGNED_RE = re.compile(r'^[+-]?[0-9]+$')
_NUMBER_RE = re.compile(r'^[0-9]+(?:\.[0-9]*)?$|^\.[0-9]+$')
_OCTAL_RE = re.compile(r'^[0-7]{1,4}$')

_KIND_HELP = {
    'count': 'an integer of at least 1',
    'int': 'a non-negative integer',
    'priority': 'an integer from -20 to 20',
    'seconds': 'a positive number of seconds',
    'onoff': "a boolean or 'On'/'Off'",
    'octal': "an octal string such as '0022' (quote it in YAML)",
    'path': 'an absolute path',
    'str': 'a string',
    'list': 'a string or a list of strings',
}


def _fmt_version(version):
    """(6, 0, 0) -> '6.0', (4, 5, 12) -> '4.5.12'."""
    return '.'.join(str(part) for part in (version[:2] if version[2] == 0 else version))


def _parse_version(value, context):
    if value is None or isinstance(value, bool) or not isinstance(value, str) or not value.strip():
        raise AnsibleFilterError(
            "%s: the installed mod_wsgi version is required as a string such as '5.0.2', got %r "
            "(is mod_wsgi installed and was modwsgi.deploy.mod_wsgi_info run?)" % (context, value))
    match = _VERSION_RE.match(value.strip())
    if not match:
        raise AnsibleFilterError(
            "%s: cannot parse the mod_wsgi version %r; expected something like '4.9.4', '5.0.2' or '6.1.1'"
            % (context, value))
    return tuple(int(part or 0) for part in match.groups())


def _available(version):
    return sorted(name for name, (dummy, added, removed, dummy2) in OPTIONS.items()
                  if added <= version and (removed is None or version < removed))


def _check_text(context, name, text):
    for char in text:
        if unicodedata.category(char) == 'Cc':
            raise AnsibleFilterError(
                '%s: option %r contains a control character (%r); newlines, tabs and other control '
                'characters cannot be written into an Apache directive' % (context, name, char))
    return text


def _integer(context, name, value, kind_help, signed=False):
    """Return ``value`` as an int; accepts ints and strings of decimal digits, never booleans or floats."""
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        return int(value)
    elif isinstance(value, str) and (_SIGNED_RE if signed else _UNSIGNED_RE).match(value.strip()):
        return int(value.strip())
    raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, kind_help, value))


def _render_value(context, name, value, kind, arg):
    """Return the text of one option value (not yet quoted)."""
    if kind == 'onoff':
        if isinstance(value, bool):
            return 'On' if value else 'Off'
        if isinstance(value, str) and value.strip().lower() in ('on', 'off'):
            return 'On' if value.strip().lower() == 'on' else 'Off'
        raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, _KIND_HELP[kind], value))

    if isinstance(value, bool):
        raise AnsibleFilterError(
            '%s: option %r does not take a boolean (only server-metrics does); it must be %s, got %r'
            % (context, name, _KIND_HELP.get(kind, 'a string') if kind != 'buffer' else 'an integer', value))

    if kind in ('count', 'int'):
        number = _integer(context, name, value, _KIND_HELP[kind])
        minimum = 1 if kind == 'count' else 0
        if number < minimum:
            raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, _KIND_HELP[kind], value))
        return str(number)

    if kind == 'buffer':
        help_text = 'a number of bytes, 0 (the default) or at least %d' % arg
        number = _integer(context, name, value, help_text)
        if number != 0 and number < arg:
            raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, help_text, value))
        return str(number)

    if kind == 'priority':
        number = _integer(context, name, value, _KIND_HELP[kind], signed=True)
        if not -20 <= number <= 20:
            raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, _KIND_HELP[kind], value))
        return str(number)

    if kind == 'seconds':
        if isinstance(value, (int, float)):
            number = value
        elif isinstance(value, str) and _NUMBER_RE.match(value.strip()):
            number = float(value.strip())
        else:
            raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, _KIND_HELP[kind], value))
        if math.isnan(number) or math.isinf(number) or number <= 0:
            raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, _KIND_HELP[kind], value))
        return str(int(number)) if isinstance(number, int) else repr(float(number))

    if kind == 'octal':
        if isinstance(value, str) and _OCTAL_RE.match(value.strip()):
            return value.strip()
        raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, _KIND_HELP[kind], value))

    if kind == 'list' and isinstance(value, (list, tuple)):
        if not value:
            raise AnsibleFilterError(
                '%s: option %r is an empty list; give at least one item, or null to leave the option out'
                % (context, name))
        items = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise AnsibleFilterError(
                    '%s: option %r must be a list of strings, got the item %r' % (context, name, item))
            item = _check_text(context, name, str(item))
            if not item or arg in item:
                raise AnsibleFilterError(
                    "%s: option %r has the item %r; items must be non-empty and cannot contain %r, which "
                    "separates them" % (context, name, item, arg))
            items.append(item)
        return arg.join(items)

    # str, path and list given as one string.
    if isinstance(value, int):
        text = str(int(value))
    elif isinstance(value, str):
        text = _check_text(context, name, str(value))
    else:
        allowed = 'a string or a list of strings' if kind == 'list' else 'a string'
        raise AnsibleFilterError('%s: option %r must be %s, got %r (%s)'
                                 % (context, name, allowed, value, type(value).__name__))
    if not text:
        raise AnsibleFilterError(
            '%s: option %r is an empty string; set it to null to leave the option out' % (context, name))
    if kind == 'path' and not text.startswith('/'):
        raise AnsibleFilterError('%s: option %r must be %s, got %r' % (context, name, _KIND_HELP[kind], value))
    return text


def _quote(value):
    r"""Write one value so that Apache's ``ap_getword_conf`` gives it back unchanged.

    The quoting rule, from the sources:
    * mod_wsgi's ``wsgi_parse_option`` (used by ``wsgi_add_daemon_process``) takes the option name up to the
      first ``=``, then reads the value with ``ap_getword_conf``;
    * ``ap_getword_conf`` honours a quote (``"`` or ``'``) only as the first character of the word it reads,
      ends the word at the matching quote, and inside the quotes turns ``\\`` into ``\`` and ``\"`` into
      ``"`` (an unquoted word ends at white space, and ``\\`` is unescaped there too).
    So a quoted value goes right after the ``=``: ``name="a b"``. Quoting the whole word (``"name=a b"``)
    would make mod_wsgi read the option name as ``"name`` and reject the directive.
    """
    if _SAFE_VALUE_RE.match(value):
        return value
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def daemon_options(options, mod_wsgi_version=None, context='daemon_options'):
    """Render a dict of WSGIDaemonProcess options for the installed mod_wsgi version."""
    context = str(context) if context is not None else 'daemon_options'
    if not isinstance(options, Mapping):
        raise AnsibleFilterError(
            '%s: expected a dictionary of WSGIDaemonProcess options (name: value), got %s'
            % (context, type(options).__name__))
    version = _parse_version(mod_wsgi_version, context)
    installed = mod_wsgi_version.strip()

    words = []
    seen = {}
    for name, value in options.items():
        if not isinstance(name, str):
            raise AnsibleFilterError('%s: option names must be strings, got %r' % (context, name))
        name = str(name)
        entry = OPTIONS.get(name)
        if entry is None:
            valid = _available(version)
            close = difflib.get_close_matches(name, valid, n=1)
            raise AnsibleFilterError(
                '%s: unknown WSGIDaemonProcess option %r%s; valid options for mod_wsgi %s are: %s'
                % (context, name, " (did you mean %r?)" % close[0] if close else '', installed, ', '.join(valid)))
        if value is None:
            continue
        kind, added, removed, arg = entry
        if version < added:
            raise AnsibleFilterError(
                '%s: option %r needs mod_wsgi >= %s, installed %s; upgrade mod_wsgi or set the option to null'
                % (context, name, _fmt_version(added), installed))
        if removed is not None and version >= removed:
            raise AnsibleFilterError(
                '%s: option %r was removed in mod_wsgi %s, installed %s; remove it or set it to null'
                % (context, name, _fmt_version(removed), installed))
        text = _render_value(context, name, value, kind, arg)
        if name == 'user' and text in ('root', '#0'):
            raise AnsibleFilterError(
                '%s: option %r cannot be root; mod_wsgi refuses to run a daemon process as root' % (context, name))
        seen[name] = text
        words.append('%s=%s' % (name, _quote(text)))

    if 'script-user' in seen and 'script-group' in seen:
        raise AnsibleFilterError(
            "%s: options 'script-user' and 'script-group' cannot both be set; mod_wsgi allows only one of them"
            % context)
    return ' '.join(words)


class FilterModule(object):
    """Filters for mod_wsgi configuration."""

    def filters(self):
        return {
            'daemon_options': daemon_options,
        }
