# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.modwsgi.deploy.plugins.filter import daemon_options as plugin
from ansible_collections.modwsgi.deploy.plugins.filter.daemon_options import FilterModule, daemon_options

CTX = 'modwsgi_apps[myapp].daemon_options'


def render(options, version='5.0.2'):
    return daemon_options(options, version, context=CTX)


def rejected(options, version='5.0.2'):
    """Return the error message for options the filter must reject."""
    with pytest.raises(AnsibleFilterError) as excinfo:
        daemon_options(options, version, context=CTX)
    message = str(excinfo.value)
    assert message.startswith(CTX + ': '), message
    return message


# ---------------------------------------------------------------------------
# A re-implementation of how Apache and mod_wsgi read the rendered words back:
# ap_getword_conf (server/util.c) and wsgi_parse_option (mod_wsgi).
# ---------------------------------------------------------------------------

def _unescape(text, quote):
    out, i = [], 0
    while i < len(text):
        if text[i] == '\\' and i + 1 < len(text) and (text[i + 1] == '\\' or (quote and text[i + 1] == quote)):
            i += 1
        out.append(text[i])
        i += 1
    return ''.join(out)


def ap_getword_conf(line):
    line = line.lstrip()
    if not line:
        return '', ''
    quote = line[0]
    if quote in ('"', "'"):
        end = 1
        while end < len(line) and line[end] != quote:
            if line[end] == '\\' and end + 1 < len(line) and line[end + 1] in (quote, '\\'):
                end += 2
            else:
                end += 1
        word = _unescape(line[1:end], quote)
        rest = line[end + 1:] if end < len(line) else ''
    else:
        end = 0
        while end < len(line) and not line[end].isspace():
            end += 1
        word = _unescape(line[:end], None)
        rest = line[end:]
    return word, rest.lstrip()


def wsgi_parse_option(args):
    """Read one ``name=value`` option; return (name, value, rest) or raise ValueError like mod_wsgi."""
    args = args.lstrip()
    end = 0
    while end < len(args) and args[end] != '=' and not args[end].isspace():
        end += 1
    if not args or end == 0 or end == len(args) or args[end] != '=':
        raise ValueError('Invalid option to WSGI daemon process definition: %r' % args)
    value, rest = ap_getword_conf(args[end + 1:])
    return args[:end], value, rest


def mod_wsgi_parse(args):
    """Split WSGIDaemonProcess arguments into (name, value) pairs as wsgi_add_daemon_process does."""
    pairs = []
    args = args.lstrip()
    while args:
        name, value, args = wsgi_parse_option(args)
        pairs.append((name, value))
    return pairs


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def test_filter_module_exposes_daemon_options():
    assert FilterModule().filters() == {'daemon_options': daemon_options}


def test_brief_example():
    options = OrderedDict([('processes', 2), ('threads', 15), ('display-name', '%{GROUP}'),
                           ('python-path', '/srv/a b')])
    assert render(options) == 'processes=2 threads=15 display-name=%{GROUP} python-path="/srv/a b"'


def test_keeps_the_order_of_the_dict():
    first = {'threads': 15, 'processes': 2, 'home': '/srv/app'}
    second = {'home': '/srv/app', 'processes': 2, 'threads': 15}
    assert render(first) == 'threads=15 processes=2 home=/srv/app'
    assert render(second) == 'home=/srv/app processes=2 threads=15'
    # Deterministic: the same input always gives the same output.
    assert render(first) == render(dict(first))


def test_none_leaves_the_option_out():
    options = {'processes': 2, 'threads': None, 'newrelic-config-file': None, 'display-name': '%{GROUP}'}
    assert render(options) == 'processes=2 display-name=%{GROUP}'
    # Even an option the version lacks can be dropped with null.
    assert render({'interrupt-timeout': None, 'threads': 5}, '5.0.2') == 'threads=5'
    assert render({'newrelic-environment': None}, '6.1.1') == ''


def test_empty_dict_renders_empty_string():
    assert render({}) == ''


def test_integers_and_digit_strings():
    options = {'processes': 3, 'maximum-requests': 0, 'request-timeout': '60', 'memory-limit': 2 ** 33,
               'cpu-priority': -5, 'listen-backlog': '0100'}
    assert render(options) == ('processes=3 maximum-requests=0 request-timeout=60 memory-limit=8589934592 '
                               'cpu-priority=-5 listen-backlog=100')


def test_lists_for_python_path_and_supplementary_groups():
    options = {'python-path': ['/srv/app/current/src', '/srv/app/lib'],
               'supplementary-groups': ['ssl-cert', 'media']}
    assert render(options) == 'python-path=/srv/app/current/src:/srv/app/lib supplementary-groups=ssl-cert,media'
    # A single string is taken as is.
    assert render({'python-path': '/a:/b'}) == 'python-path=/a:/b'
    assert render({'python-path': ('/a',)}) == 'python-path=/a'


def test_list_rejected_for_other_options():
    message = rejected({'home': ['/srv/a', '/srv/b']})
    assert "'home'" in message and 'string' in message


def test_list_items_are_checked():
    assert "':'" in rejected({'python-path': ['/a', '/b:/c']})
    assert 'empty list' in rejected({'supplementary-groups': []})
    assert 'list of strings' in rejected({'python-path': ['/a', {'b': 1}]})


def test_server_metrics_takes_booleans_and_on_off():
    assert render({'server-metrics': True}) == 'server-metrics=On'
    assert render({'server-metrics': False}) == 'server-metrics=Off'
    assert render({'server-metrics': 'on'}) == 'server-metrics=On'
    assert 'On' in rejected({'server-metrics': 'yes'})


@pytest.mark.parametrize('name', ['processes', 'home', 'request-timeout', 'python-path', 'display-name'])
def test_booleans_rejected_elsewhere(name):
    message = rejected({name: True})
    assert repr(name) in message and 'boolean' in message and 'server-metrics' in message


def test_switch_interval_float():
    assert render({'switch-interval': 0.002}, '6.0.0') == 'switch-interval=0.002'
    assert render({'switch-interval': '0.005'}, '6.1.1') == 'switch-interval=0.005'
    assert render({'switch-interval': 1}, '6.1.1') == 'switch-interval=1'
    assert 'positive' in rejected({'switch-interval': 0}, '6.1.1')
    assert 'positive' in rejected({'switch-interval': 'fast'}, '6.1.1')
    assert 'positive' in rejected({'switch-interval': float('nan')}, '6.1.1')
    assert 'positive' in rejected({'switch-interval': float('inf')}, '6.1.1')
    assert 'needs mod_wsgi >= 6.0' in rejected({'switch-interval': 0.005}, '5.0.2')


def test_umask_must_be_an_octal_string():
    assert render({'umask': '0007'}) == 'umask=0007'
    # YAML reads umask: 0022 as the integer 18; rendering 18 would be wrong, so integers are refused.
    assert "'0022'" in rejected({'umask': 18})
    assert 'octal' in rejected({'umask': '0089'})


# ---------------------------------------------------------------------------
# Quoting
# ---------------------------------------------------------------------------

def test_safe_values_are_not_quoted():
    value = 'Az09_./:%{}@+,-='
    assert render({'display-name': value}) == 'display-name=' + value


def test_space_quotes_the_value_after_the_equals_sign():
    assert render({'home': '/srv/my app'}) == 'home="/srv/my app"'


def test_double_quote_and_backslash_are_escaped():
    assert render({'display-name': 'say "hi"'}) == r'display-name="say \"hi\""'
    assert render({'home': '/srv/back\\slash'}) == r'home="/srv/back\\slash"'
    assert render({'home': '/srv/end\\'}) == r'home="/srv/end\\"'


@pytest.mark.parametrize('value', [
    '/srv/my app', 'say "hi"', 'C:\\dir\\', "it's", '"', '\\"', '#1000', 'a  b', '/srv/ü', '$HOME', ';&|<>*?',
])
def test_values_survive_apache_and_mod_wsgi_parsing(value):
    options = OrderedDict([('processes', 2), ('display-name', value), ('lang', 'C.UTF-8'),
                           ('python-path', ['/srv/a b', value.replace(':', '')])])
    line = render(options)
    assert mod_wsgi_parse(line) == [
        ('processes', '2'), ('display-name', value), ('lang', 'C.UTF-8'),
        ('python-path', '/srv/a b:' + value.replace(':', '')),
    ]


def test_quoting_whole_word_would_break_mod_wsgi():
    # The reason values, not words, are quoted: mod_wsgi reads the name up to the first '='.
    assert wsgi_parse_option('"home=/srv/a b"')[0] == '"home'
    with pytest.raises(ValueError):
        mod_wsgi_parse('"home=/srv/a b"')
    assert mod_wsgi_parse(render({'home': '/srv/a b'})) == [('home', '/srv/a b')]


@pytest.mark.parametrize('value', ['/srv/a\nb', 'x\r', 'tab\there', 'nul\x00', 'bell\x07', 'del\x7f', 'c1\x85'])
def test_control_characters_rejected(value):
    message = rejected({'display-name': value})
    assert "'display-name'" in message and 'control character' in message


def test_control_characters_rejected_in_list_items():
    assert 'control character' in rejected({'python-path': ['/a', '/b\n']})


def test_empty_string_rejected():
    assert 'null' in rejected({'lang': ''})


# ---------------------------------------------------------------------------
# Names and versions
# ---------------------------------------------------------------------------

def test_unknown_option_lists_valid_names():
    message = rejected({'processes': 2, 'procesess': 2})
    assert "'procesess'" in message
    assert "did you mean 'processes'" in message
    assert 'mod_wsgi 5.0.2' in message
    for name in ('processes', 'threads', 'python-home', 'request-timeout', 'newrelic-config-file'):
        assert name in message
    # Options the installed version lacks are not offered.
    assert 'interrupt-timeout' not in message


def test_unknown_option_lists_names_of_that_version():
    message = rejected({'python_path': '/srv'}, '6.1.1')
    assert "did you mean 'python-path'" in message
    assert 'interrupt-timeout' in message and 'switch-interval' in message
    assert 'newrelic' not in message


def test_non_string_option_name_rejected():
    assert 'strings' in rejected({1: 'x'})


def test_option_too_new_for_installed_version():
    message = rejected({'restart-interval': 3600}, '4.5.10')
    assert message == ("%s: option 'restart-interval' needs mod_wsgi >= 4.5.12, installed 4.5.10; "
                       "upgrade mod_wsgi or set the option to null" % CTX)
    assert render({'restart-interval': 3600}, '4.5.12') == 'restart-interval=3600'
    assert 'needs mod_wsgi >= 6.0, installed 5.0.2' in rejected({'interrupt-timeout': 10}, '5.0.2')
    assert render({'interrupt-timeout': 10}, '6.0.0') == 'interrupt-timeout=10'


@pytest.mark.parametrize('name', ['newrelic-config-file', 'newrelic-environment'])
def test_new_relic_options_removed_in_6(name):
    assert render({name: '/etc/newrelic.ini'}, '5.0.2') == name + '=/etc/newrelic.ini'
    assert render({name: '/etc/newrelic.ini'}, '4.9.4') == name + '=/etc/newrelic.ini'
    message = rejected({name: '/etc/newrelic.ini'}, '6.1.1')
    assert message == ("%s: option '%s' was removed in mod_wsgi 6.0, installed 6.1.1; "
                       "remove it or set it to null" % (CTX, name))


@pytest.mark.parametrize('version', [None, '', '   ', 'abc', '5', 'v5.0.2', '5.x', 5.0, 502, True])
def test_bad_version_rejected(version):
    message = rejected({'processes': 2}, version)
    assert 'mod_wsgi version' in message
    assert '5.0.2' in message


@pytest.mark.parametrize('version, expected', [
    ('4.9.4', (4, 9, 4)), ('5.0.2', (5, 0, 2)), ('6.1.1', (6, 1, 1)), ('6.0', (6, 0, 0)), (' 5.0.2 ', (5, 0, 2)),
    ('4.9.0rc1', (4, 9, 0)), ('5.0.2.dev0', (5, 0, 2)), ('4.10.0', (4, 10, 0)),
])
def test_versions_parsed(version, expected):
    assert plugin._parse_version(version, CTX) == expected


def test_version_is_required():
    with pytest.raises(AnsibleFilterError) as excinfo:
        daemon_options({'processes': 2})
    assert str(excinfo.value).startswith('daemon_options: ')


# ---------------------------------------------------------------------------
# Numeric validation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['processes', 'threads', 'stack-size'])
def test_counts_must_be_at_least_one(name):
    message = rejected({name: 0})
    assert repr(name) in message and 'at least 1' in message and 'got 0' in message
    assert render({name: 1}) == name + '=1'


@pytest.mark.parametrize('name', [
    'maximum-requests', 'startup-timeout', 'shutdown-timeout', 'deadlock-timeout', 'inactivity-timeout',
    'request-timeout', 'graceful-timeout', 'eviction-timeout', 'restart-interval', 'connect-timeout',
    'socket-timeout', 'queue-timeout', 'listen-backlog', 'response-socket-timeout', 'cpu-time-limit',
    'memory-limit', 'virtual-memory-limit',
])
@pytest.mark.parametrize('value', [-1, '-1', 1.5, '1.5', '60s', 'sixty', [60], {'a': 1}])
def test_numeric_options_reject_bad_values(name, value):
    message = rejected({name: value})
    assert repr(name) in message and 'non-negative integer' in message


@pytest.mark.parametrize('name, minimum', [
    ('send-buffer-size', 512), ('receive-buffer-size', 512), ('header-buffer-size', 8192),
    ('response-buffer-size', 65536),
])
def test_buffer_sizes(name, minimum):
    assert render({name: 0}) == name + '=0'
    assert render({name: minimum}) == '%s=%d' % (name, minimum)
    message = rejected({name: minimum - 1})
    assert 'at least %d' % minimum in message
    assert 'at least %d' % minimum in rejected({name: -1})


def test_cpu_priority_range():
    assert render({'cpu-priority': '-20'}) == 'cpu-priority=-20'
    assert render({'cpu-priority': 20}) == 'cpu-priority=20'
    assert '-20 to 20' in rejected({'cpu-priority': 21})


def test_paths_must_be_absolute():
    assert 'absolute path' in rejected({'home': 'srv/app'})
    assert render({'home': '/srv/app'}) == 'home=/srv/app'


def test_user_root_rejected():
    assert 'root' in rejected({'user': 'root'})
    assert 'root' in rejected({'user': '#0'})
    assert render({'user': '#1000'}) == 'user="#1000"'


def test_script_user_and_group_are_exclusive():
    message = rejected({'script-user': 'app', 'script-group': 'app'})
    assert 'script-user' in message and 'script-group' in message


# ---------------------------------------------------------------------------
# Input type
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('options', [None, [], ['processes=2'], 'processes=2', 2])
def test_options_must_be_a_dict(options):
    message = rejected(options)
    assert 'dictionary' in message


# ---------------------------------------------------------------------------
# The option table against mod_wsgi's own option lists
# ---------------------------------------------------------------------------

# Options parsed by wsgi_add_daemon_process() in mod_wsgi 4.5.13+ / 5.x (src/server/mod_wsgi.c).
MOD_WSGI_5_OPTIONS = {
    'user', 'group', 'supplementary-groups', 'processes', 'threads', 'umask', 'chroot', 'home', 'lang', 'locale',
    'python-home', 'python-path', 'python-eggs', 'stack-size', 'maximum-requests', 'startup-timeout',
    'shutdown-timeout', 'deadlock-timeout', 'inactivity-timeout', 'request-timeout', 'graceful-timeout',
    'eviction-timeout', 'restart-interval', 'connect-timeout', 'socket-timeout', 'queue-timeout',
    'listen-backlog', 'display-name', 'send-buffer-size', 'receive-buffer-size', 'header-buffer-size',
    'response-buffer-size', 'response-socket-timeout', 'socket-user', 'script-user', 'script-group',
    'cpu-time-limit', 'cpu-priority', 'memory-limit', 'virtual-memory-limit', 'server-metrics',
    'newrelic-config-file', 'newrelic-environment',
}
MOD_WSGI_6_OPTIONS = (MOD_WSGI_5_OPTIONS - {'newrelic-config-file', 'newrelic-environment'}) | {
    'interrupt-timeout', 'switch-interval'}


def test_table_matches_mod_wsgi_5():
    assert set(plugin._available((5, 0, 2))) == MOD_WSGI_5_OPTIONS
    assert set(plugin._available((4, 9, 4))) == MOD_WSGI_5_OPTIONS


def test_table_matches_mod_wsgi_6():
    assert set(plugin._available((6, 1, 1))) == MOD_WSGI_6_OPTIONS
    assert set(plugin._available((6, 0, 0))) == MOD_WSGI_6_OPTIONS


def test_table_for_old_4x():
    available = set(plugin._available((4, 4, 0)))
    assert {'request-timeout', 'graceful-timeout', 'queue-timeout'} <= available
    assert not {'eviction-timeout', 'socket-user', 'startup-timeout', 'restart-interval'} & available
