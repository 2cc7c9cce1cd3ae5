# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The app role's model in plain Python: merging, every preflight message, sites, releases, venvs, pruning,
what to read from the host and whether what is there is what is wanted.

The expected messages are written out in full, as the role's end-to-end suites (tests/preflight,
tests/bad_inputs) match them. tests/unit/plugins/filter/test_app_model_filter.py checks the functions that
replaced Jinja of the role against that Jinja, rendered by ansible-core; the prune plan, which now reads what
modwsgi.deploy.host_state reports, and the functions over that report are only tested here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

import pytest

from ansible_collections.modwsgi.deploy.plugins.module_utils import app_model

ROOT = '/srv/modwsgi'
PLAYBOOK_DIR = '/playbooks'
SERVER = {
    'python': '/usr/bin/python3',
    'apache_user': 'www-data',
    'apache_group': 'www-data',
    'restrict_embedded': True,
    'log_dir': '/var/log/apache2',
}
P = 'modwsgi_apps[0] (hello)'
DROP = object()
_CURRENT = object()


@pytest.fixture
def source(tmp_path):
    path = tmp_path / 'app'
    path.mkdir()
    return str(path)


def app(path, **changes):
    """A good app whose source is the directory at path, with changes (DROP removes a key)."""
    entry = {
        'name': 'hello',
        'server_name': 'hello.example.com',
        'entry_point': 'hello:app',
        'source': {'type': 'dir', 'path': path},
    }
    for key, value in changes.items():
        if value is DROP:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


def errors(apps, defaults=None, server=None, cpus=2):
    return app_model.app_errors(apps, {} if defaults is None else defaults, ROOT, SERVER if server is None else server,
                                cpus, PLAYBOOK_DIR)


def merge(apps, defaults=None, server=None, cpus=2):
    return app_model.merge_apps(apps, {} if defaults is None else defaults, ROOT, SERVER if server is None else server,
                                cpus, PLAYBOOK_DIR)


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

def test_builtin_defaults_order_and_values():
    assert list(app_model.BUILTIN_DEFAULTS) == [
        'server_aliases', 'port', 'mount', 'requirements', 'python', 'user', 'group', 'processes', 'threads',
        'daemon_options', 'env', 'secret_env', 'static', 'tls', 'health_check', 'pre_switch', 'keep_releases',
        'mode', 'pass_authorization', 'extra_directives', 'state', 'setup', 'files', 'shared', 'shared_files',
        'default_site']
    assert app_model.BUILTIN_DEFAULTS['port'] == 80
    assert app_model.BUILTIN_DEFAULTS['threads'] == 5
    assert app_model.BUILTIN_DEFAULTS['keep_releases'] == 3
    assert app_model.HEALTH_DEFAULTS == {'path': '/', 'status': 200, 'timeout': 30}
    assert app_model.TLS_DEFAULTS == {'port': 443, 'redirect_http': True, 'chain': None}
    assert app_model.SOURCE_DEFAULTS == {'version': 'HEAD', 'subdir': ''}
    assert [app_model.BUILTIN_DEFAULTS[key] for key in ('setup', 'files', 'shared', 'default_site')] == [[], [], [], False]
    assert app_model.FILE_DEFAULTS == {'mode': '0640', 'secret': False}


# ---------------------------------------------------------------------------
# combine (Ansible's semantics)
# ---------------------------------------------------------------------------

def test_combine_recursive_merges_dicts_and_replaces_lists():
    low = {'a': {'x': 1, 'y': 2}, 'l': [1, 2], 'k': 1}
    high = {'a': {'y': 3, 'z': 4}, 'l': [3]}
    assert app_model.combine(low, high, recursive=True) == {'a': {'x': 1, 'y': 3, 'z': 4}, 'l': [3], 'k': 1}
    assert app_model.combine(low, high) == {'a': {'y': 3, 'z': 4}, 'l': [3], 'k': 1}


def test_combine_keeps_the_low_key_order_and_appends_new_keys():
    assert list(app_model.combine({'a': 1, 'b': 2}, {'c': 3, 'a': 4})) == ['a', 'b', 'c']


def test_combine_of_equal_dicts_takes_the_high_order():
    assert list(app_model.combine({'a': 1, 'b': 2}, {'b': 2, 'a': 1})) == ['b', 'a']


def test_combine_does_not_change_its_arguments():
    low, high = {'a': {'x': 1}}, {'a': {'y': 2}}
    app_model.combine(low, high, recursive=True)
    assert low == {'a': {'x': 1}} and high == {'a': {'y': 2}}


# ---------------------------------------------------------------------------
# Merging
# ---------------------------------------------------------------------------

def test_merge_of_a_minimal_app(source):
    merged = merge([app(source, secret_env={'TOKEN': 's'})], cpus=4)
    assert merged == [{
        'server_aliases': [], 'port': 80, 'mount': '/', 'requirements': 'requirements.txt',
        'python': '/usr/bin/python3', 'user': 'wsgi-hello', 'group': 'wsgi-hello', 'processes': 4, 'threads': 5,
        'daemon_options': {}, 'env': {}, 'secret_env': {'TOKEN': 's'}, 'static': [], 'tls': None,
        'health_check': {'path': '/', 'status': 200, 'timeout': 30}, 'pre_switch': [], 'keep_releases': 3,
        'mode': 'daemon', 'pass_authorization': False, 'extra_directives': [], 'state': 'present',
        'setup': [], 'files': [], 'shared': [], 'shared_files': [], 'default_site': False,
        'name': 'hello', 'server_name': 'hello.example.com', 'entry_point': 'hello:app',
        'source': {'version': 'HEAD', 'subdir': '', 'type': 'dir', 'path': source},
        'index': 0, 'requirements_optional': True,
        '_dir': '/srv/modwsgi/hello', '_releases': '/srv/modwsgi/hello/releases', '_venvs': '/srv/modwsgi/hello/venvs',
        '_current': '/srv/modwsgi/hello/current', '_previous': '/srv/modwsgi/hello/previous',
        '_data': '/srv/modwsgi/hello/data', '_config': '/srv/modwsgi/hello/config',
        '_setup_records': '/srv/modwsgi/hello/data/.modwsgi-setup', '_files_manifest': '/srv/modwsgi/hello/files.json',
        '_cache': '/srv/modwsgi/hello/cache', '_wsgi_dir': '/srv/modwsgi/hello/wsgi',
        '_wsgi_file': '/srv/modwsgi/hello/wsgi/hello.wsgi', '_env_file': '/srv/modwsgi/hello/env.json',
        '_secret_file': '/srv/modwsgi/hello/secret_env.json', '_src_rel': 'src',
        '_src_current': '/srv/modwsgi/hello/current/src', '_mount_order': '00001 /', '_site': 'hello.example.com-80',
        '_files': [],
        '_data_dirs': [],
        '_static_dirs': [],
        '_static_parents': [],
    }]
    # The builtin defaults come first, in their order; the app's own keys and the extras follow.
    assert list(merged[0])[:26] == list(app_model.BUILTIN_DEFAULTS)
    assert list(merged[0])[-1] == '_static_parents'


def test_merge_makes_a_relative_source_path_absolute_against_the_playbook(source):
    merged = merge([app(source, source={'type': 'dir', 'path': 'examples/app'}),
                    app(source, name='other', source={'type': 'archive', 'path': 'app.tar.gz'}),
                    app(source, name='third', source={'type': 'dir', 'path': ''})])
    assert [m['source']['path'] for m in merged] == ['/playbooks/examples/app', '/playbooks/app.tar.gz', '']
    assert merged[0]['source'] == {'version': 'HEAD', 'subdir': '', 'type': 'dir', 'path': '/playbooks/examples/app'}


def test_merge_of_a_pypi_app(source):
    merged = merge([app(source, source={'type': 'pypi', 'spec': 'Werkzeug>=3', 'subdir': 'ignored'})])[0]
    assert merged['requirements'] == []
    assert merged['requirements_optional'] is True
    assert merged['_src_rel'] == ''
    assert merged['_src_current'] == '/srv/modwsgi/hello/current'


def test_merge_with_a_subdir_and_requirements(source):
    merged = merge([app(source, source={'type': 'git', 'repo': 'https://example.com/r.git', 'subdir': 'web/app'},
                        requirements=['flask'])])[0]
    assert merged['source'] == {'version': 'HEAD', 'subdir': 'web/app', 'type': 'git', 'repo': 'https://example.com/r.git'}
    assert merged['requirements'] == ['flask']
    assert merged['requirements_optional'] is False
    assert merged['_src_rel'] == 'src/web/app'
    assert merged['_src_current'] == '/srv/modwsgi/hello/current/src/web/app'


def test_merge_is_recursive_over_the_defaults(source):
    defaults = {'env': {'A': '1'}, 'health_check': {'timeout': 5}, 'static': [{'url': '/d', 'path': 'd'}], 'port': 8080}
    merged = merge([app(source, env={'B': '2'}, static=[{'url': '/s', 'path': 's'}], health_check={'path': '/health'})],
                   defaults=defaults)[0]
    assert merged['env'] == {'A': '1', 'B': '2'}
    assert merged['static'] == [{'url': '/s', 'path': 's'}]
    assert merged['health_check'] == {'path': '/health', 'status': 200, 'timeout': 5}
    assert merged['port'] == 8080
    assert merged['_site'] == 'hello.example.com-8080'
    assert defaults['env'] == {'A': '1'}


@pytest.mark.parametrize('cpus, processes, expected', [(8, None, 8), (1, None, 2), ('4', None, 4), (8, 3, 3), (8, 0, 0)])
def test_merge_sizes_processes_from_the_cpus(source, cpus, processes, expected):
    assert merge([app(source, processes=processes)], cpus=cpus)[0]['processes'] == expected


def test_merge_takes_python_from_the_app_then_the_server(source):
    assert merge([app(source, python='/opt/py/bin/python3.12')])[0]['python'] == '/opt/py/bin/python3.12'
    assert merge([app(source)], server={'python': '/usr/bin/python3.11'})[0]['python'] == '/usr/bin/python3.11'
    assert merge([app(source)], server={})[0]['python'] == '/usr/bin/python3'


def test_merge_defaults_user_and_group(source):
    assert [(m['user'], m['group']) for m in merge([app(source), app(source, name='b', user='u'),
                                                    app(source, name='c', group='g')])] == [
        ('wsgi-hello', 'wsgi-hello'), ('u', 'u'), ('wsgi-c', 'g')]


def test_merge_completes_tls_and_drops_a_tls_that_is_no_dict(source):
    merged = merge([app(source, tls={'cert': '/c.pem', 'key': '/k.pem'}), app(source, name='b', tls='yes')])
    assert merged[0]['tls'] == {'port': 443, 'redirect_http': True, 'chain': None, 'cert': '/c.pem', 'key': '/k.pem'}
    assert merged[1]['tls'] is None


def test_merge_site_and_mount_order(source):
    merged = merge([app(source, server_name='Hello World.example.com', port=8080, mount='/api/v1'),
                    app(source, name='b', mount='/')])
    assert merged[0]['_site'] == 'Hello_World.example.com-8080'
    assert merged[0]['_mount_order'] == '00007 /api/v1'
    assert [m['index'] for m in merged] == [0, 1]


def test_merge_refuses_a_bad_shape():
    with pytest.raises(ValueError, match='modwsgi_apps must be a list of dicts'):
        merge({'name': 'hello'})


# ---------------------------------------------------------------------------
# The shape of the input
# ---------------------------------------------------------------------------

SHAPE = ('modwsgi_apps must be a list of dicts (one per app, each with a name) and modwsgi_app_defaults a dict of '
         'app keys other than name.')


@pytest.mark.parametrize('apps, defaults', [
    ({'name': 'hello'}, {}),
    ('hello', {}),
    (5, {}),
    (['hello'], {}),
    ([{'name': 'hello'}, None], {}),
    ([], []),
    ([], {'name': 'x'}),
], ids=['apps-dict', 'apps-string', 'apps-int', 'entry-string', 'entry-null', 'defaults-list', 'defaults-name'])
def test_shape_errors(apps, defaults):
    assert app_model.shape_errors(apps, defaults) == [SHAPE]
    assert errors(apps, defaults) == [SHAPE]


def test_no_apps_no_errors():
    assert errors([]) == []


# ---------------------------------------------------------------------------
# Every key check, with its whole message
# ---------------------------------------------------------------------------

def test_a_good_app_has_no_errors(source):
    assert errors([app(source)]) == []


@pytest.mark.parametrize('changes, expected', [
    ({'name': 'a/b'}, ["modwsgi_apps[0] (a/b).name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter "
                       "or digit; got \"a/b\"."]),
    ({'name': '..'}, ["modwsgi_apps[0] (..).name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter "
                      "or digit; got \"..\"."]),
    ({'name': 'x' * 27}, ["modwsgi_apps[0] (%s).name must be 1-26 lowercase letters, digits, '-' or '_', starting with a "
                          "letter or digit; got \"%s\"." % ('x' * 27, 'x' * 27)]),
    ({'name': 5}, ["modwsgi_apps[0].name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter or digit; "
                   "got \"5\"."]),
    ({'name': None}, ["modwsgi_apps[0].name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter or "
                      "digit; got \"None\"."]),
], ids=['slash', 'dotdot', 'too-long', 'number', 'null'])
def test_name(source, changes, expected):
    assert errors([app(source, user='appuser', group='appgroup', **changes)]) == expected


def test_name_with_a_space_also_spoils_the_default_user(source):
    assert errors([app(source, name='my app')]) == [
        "modwsgi_apps[0] (my app).name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter or digit; "
        "got \"my app\".",
        "modwsgi_apps[0] (my app).user must be a system user name (lowercase letters, digits, '-', '_'); got \"wsgi-my app\".",
        "modwsgi_apps[0] (my app).group must be a system group name (lowercase letters, digits, '-', '_'); got \"wsgi-my app\".",
    ]


def test_non_ascii_is_escaped_in_the_value_but_not_in_the_app_label(source):
    assert errors([app(source, name='caf\u00e9', user='u', group='g')]) == [
        "modwsgi_apps[0] (caf\u00e9).name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter or digit; "
        "got \"caf\\u00e9\"."]


# What every entry_point message says after the quoted value (plugins/module_utils/wsgi_entry_point.py).
ENTRY_POINT_FORMS = ("must be 'module:callable' (e.g. 'hello:app') or a factory call 'module:factory()' / "
                     "'module:factory(<Python literals>)' (e.g. 'blog:create_app()' or "
                     "'pypiserver:app(roots=[\"${MODWSGI_APP_DATA}/packages\"])')")


@pytest.mark.parametrize('changes, expected', [
    ({'server_name': 'bad name'}, ["%s.server_name must be a host name such as 'www.example.com'; got \"bad name\"." % P]),
    ({'server_name': DROP}, ["%s.server_name must be a host name such as 'www.example.com'; got \"nothing\"." % P]),
    ({'server_name': None}, ["%s.server_name must be a host name such as 'www.example.com'; got \"None\"." % P]),
    ({'server_name': '-x.example.com'}, ["%s.server_name must be a host name such as 'www.example.com'; got \"-x.example.com\"." % P]),
    ({'server_aliases': ['www.example.com', '*.example.com', 'bad alias', 5]}, [
        '%s.server_aliases must hold host names; "bad alias" is not one.' % P,
        '%s.server_aliases must hold host names; "5" is not one.' % P]),
    ({'port': 70000}, ['%s.port must be a TCP port between 1 and 65535; got "70000".' % P]),
    ({'port': 0}, ['%s.port must be a TCP port between 1 and 65535; got "0".' % P]),
    ({'port': 'eighty'}, ['%s.port must be a TCP port between 1 and 65535; got "eighty".' % P]),
    ({'port': '80'}, ['%s.port must be a TCP port between 1 and 65535; got "80".' % P]),
    ({'mount': 'api'}, ["%s.mount must be a URL path starting with '/' and without a trailing '/' (e.g. '/' or '/api'); "
                        "got \"api\"." % P]),
    ({'mount': '/api/'}, ["%s.mount must be a URL path starting with '/' and without a trailing '/' (e.g. '/' or '/api'); "
                          "got \"/api/\"." % P]),
    ({'mount': '/a/../b'}, ["%s.mount must be a URL path starting with '/' and without a trailing '/' (e.g. '/' or '/api'); "
                            "got \"/a/../b\"." % P]),
    ({'entry_point': 'hello'}, [P + ".entry_point 'hello' " + ENTRY_POINT_FORMS + '; there is no colon between the module '
                                'and the callable.']),
    ({'entry_point': DROP}, ["%s.entry_point must be 'module:callable' (e.g. 'hello:app') or a factory call "
                             "'module:factory()' or 'module:factory(<Python literals>)' (e.g. 'blog:create_app()'); "
                             "got \"nothing\"." % P]),
], ids=['server-name', 'server-name-missing', 'server-name-null', 'server-name-dash', 'aliases', 'port-range', 'port-zero',
        'port-word', 'port-string', 'mount-relative', 'mount-trailing', 'mount-dotdot', 'entry-point', 'entry-point-missing'])
def test_host_and_url_keys(source, changes, expected):
    assert errors([app(source, **changes)]) == expected


@pytest.mark.parametrize('src, expected', [
    ({'path': '/tmp'}, ['%s.source must be a dict with type dir, git, archive or pypi.' % P]),
    ('dir', ['%s.source must be a dict with type dir, git, archive or pypi.' % P]),
    ({'type': 'dir', 'path': '/nonexistent/app'},
     ['%s.source.path must be an existing directory on the controller; got "/nonexistent/app".' % P]),
    ({'type': 'dir', 'path': 'app'},
     ['%s.source.path must be an existing directory on the controller; got "/playbooks/app".' % P]),
    ({'type': 'dir'}, ['%s.source.path must be an existing directory on the controller; got "nothing".' % P]),
    ({'type': 'git'}, ['%s.source.repo must name the git repository to clone.' % P]),
    ({'type': 'git', 'repo': ''}, ['%s.source.repo must name the git repository to clone.' % P]),
    ({'type': 'archive'},
     ['%s.source needs exactly one of url (downloaded on the host) and path (a file on the controller).' % P]),
    ({'type': 'archive', 'url': 'https://example.com/app.zip', 'path': '/tmp/app.zip'},
     ['%s.source needs exactly one of url (downloaded on the host) and path (a file on the controller).' % P]),
    ({'type': 'archive', 'path': '/nonexistent/app.tar.gz'},
     ['%s.source.path must be an existing archive file on the controller; got "/nonexistent/app.tar.gz".' % P]),
    ({'type': 'archive', 'url': 'https://example.com/app.rar'},
     ['%s.source must name a .tar.gz, .tgz, .tar or .zip archive; got "https://example.com/app.rar".' % P]),
    ({'type': 'pypi'}, ["%s.source.spec must be the requirement to install, such as 'Werkzeug>=3,<4'." % P]),
    ({'type': 'pypi', 'spec': ''}, ["%s.source.spec must be the requirement to install, such as 'Werkzeug>=3,<4'." % P]),
    ({'type': 'git', 'repo': 'https://example.com/r.git', 'subdir': '/abs'},
     ["%s.source.subdir must be a relative path inside the source, without '..'; got \"/abs\"." % P]),
    ({'type': 'git', 'repo': 'https://example.com/r.git', 'subdir': 'a/../b'},
     ["%s.source.subdir must be a relative path inside the source, without '..'; got \"a/../b\"." % P]),
    ({'type': 'git', 'repo': 'https://example.com/r.git', 'subdir': 5},
     ["%s.source.subdir must be a relative path inside the source, without '..'; got \"5\"." % P]),
    ({'type': 'svn', 'path': '/tmp'}, []),
], ids=['no-type', 'not-a-dict', 'dir-missing', 'dir-relative', 'dir-no-path', 'git-no-repo', 'git-empty-repo', 'archive-neither',
        'archive-both', 'archive-missing-file', 'archive-format', 'pypi-no-spec', 'pypi-empty-spec', 'subdir-absolute',
        'subdir-dotdot', 'subdir-number', 'unknown-type-is-for-argument-specs'])
def test_source(source, src, expected):
    assert errors([app(source, source=src)]) == expected


def test_archive_path_must_be_a_file_with_an_archive_name(tmp_path, source):
    (tmp_path / 'app.rar').write_text('x')
    (tmp_path / 'app.tgz').write_text('x')
    assert errors([app(source, source={'type': 'archive', 'path': str(tmp_path / 'app.rar')})]) == [
        '%s.source must name a .tar.gz, .tgz, .tar or .zip archive; got "%s".' % (P, tmp_path / 'app.rar')]
    assert errors([app(source, source={'type': 'archive', 'path': source})]) == [
        '%s.source.path must be an existing archive file on the controller; got "%s".' % (P, source)]
    assert errors([app(source, source={'type': 'archive', 'path': str(tmp_path / 'app.tgz')})]) == []
    assert errors([app(source, source={'type': 'archive', 'url': 'https://example.com/app.tar.gz'})]) == []


@pytest.mark.parametrize('requirements, expected', [
    ('../secrets.txt', ["%s.requirements must be a file relative to the source root (no '..'), or a list of requirement specs; "
                        "got \"../secrets.txt\"." % P]),
    ('/etc/requirements.txt', ["%s.requirements must be a file relative to the source root (no '..'), or a list of requirement "
                               "specs; got \"/etc/requirements.txt\"." % P]),
    ('', ["%s.requirements must be a file relative to the source root (no '..'), or a list of requirement specs; got \"\"." % P]),
    (['flask', 5], ['%s.requirements must be a file relative to the source root, or a list of requirement specs (strings).' % P]),
    ({'flask': '3'}, ['%s.requirements must be a file relative to the source root, or a list of requirement specs (strings).' % P]),
    (5, ['%s.requirements must be a file relative to the source root, or a list of requirement specs (strings).' % P]),
    ('requirements/prod.txt', []),
    (['flask>=3'], []),
], ids=['dotdot', 'absolute', 'empty', 'list-item', 'dict', 'number', 'good-file', 'good-list'])
def test_requirements(source, requirements, expected):
    assert errors([app(source, requirements=requirements)]) == expected


def test_python(source):
    assert errors([app(source, python='python3')]) == [
        '%s.python must be the absolute path of a Python interpreter on the host; got "python3".' % P]


@pytest.mark.parametrize('changes, server, expected', [
    ({'user': 'Bad', 'group': 'g'}, None,
     ["%s.user must be a system user name (lowercase letters, digits, '-', '_'); got \"Bad\"." % P]),
    ({'user': 'u', 'group': 'u' * 33}, None,
     ["%s.group must be a system group name (lowercase letters, digits, '-', '_'); got \"%s\"." % (P, 'u' * 33)]),
    ({'user': 'root', 'group': 'g'}, None,
     ['%s.user must not be root: the app runs as its own user, never as root or the Apache user.' % P]),
    ({'user': 'u', 'group': 'wheel'}, None,
     ['%s.group must not be wheel: the app runs as its own user, never as root or the Apache user.' % P]),
    ({'user': 'www-data'}, None,
     ['%s.user must not be www-data: the app runs as its own user, never as root or the Apache user.' % P,
      '%s.group must not be www-data: the app runs as its own user, never as root or the Apache user.' % P]),
    ({'user': 'www-data'}, {}, []),
], ids=['user-format', 'group-format', 'user-root', 'group-wheel', 'apache-user', 'apache-user-unknown'])
def test_user_and_group(source, changes, server, expected):
    assert errors([app(source, **changes)], server=server) == expected


@pytest.mark.parametrize('key, value', [
    ('processes', 0), ('processes', '2'), ('threads', 0), ('threads', None), ('keep_releases', -1), ('keep_releases', 'all'),
])
def test_sizes(source, key, value):
    assert errors([app(source, **{key: value})]) == [
        '%s.%s must be a whole number of at least 1; got "%s".' % (P, key, value)]


@pytest.mark.parametrize('key, instead', [
    ('user', "the app's user key"),
    ('group', "the app's group key"),
    ('home', 'nothing (the role points it at the current release)'),
    ('python-home', "the app's python key (the role points it at the release's virtualenv)"),
    ('python-path', "source.subdir (the role points it at the release's source)"),
])
def test_daemon_options_the_role_owns(source, key, instead):
    assert errors([app(source, daemon_options={'maximum-requests': 100, key: 'x'})]) == [
        '%s.daemon_options.%s cannot be set: the role sets and checks %s itself; set %s instead.' % (P, key, key, instead)]


@pytest.mark.parametrize('variable', ['env', 'secret_env'])
def test_environment_variable_names(source, variable):
    assert errors([app(source, **{variable: {'GOOD_1': 'x', 'BAD-NAME': 'x', '1ABC': 'x', 7: 'x'}})]) == [
        "%s.%s has a bad variable name \"BAD-NAME\": use letters, digits and '_', not starting with a digit." % (P, variable),
        "%s.%s has a bad variable name \"1ABC\": use letters, digits and '_', not starting with a digit." % (P, variable),
        "%s.%s has a bad variable name 7: use letters, digits and '_', not starting with a digit." % (P, variable),
    ]


def test_static(source):
    static = [
        {'url': '/static', 'path': 'hello/static'},
        {'url': 'static', 'path': '/var/www/static'},
        {'url': '/a b', 'path': '../x'},
        {'url': '/ok', 'path': 'a b'},
        {'path': ''},
        {'url': None, 'path': 'p"q'},
    ]
    url = "%s.static[%d].url must be an absolute URL path such as '/static'; got %s."
    path = ("%s.static[%d].path must be a directory relative to the source root (no '..') or an absolute path, without spaces "
            "or quotes; got %s.")
    assert errors([app(source, static=static)]) == [
        url % (P, 1, '"static"'),
        url % (P, 2, '"/a b"'),
        path % (P, 2, '"../x"'),
        path % (P, 3, '"a b"'),
        url % (P, 4, '"nothing"'),
        path % (P, 4, '""'),
        url % (P, 5, '"None"'),
        path % (P, 5, '"p\\"q"'),
    ]


@pytest.mark.parametrize('tls, expected', [
    ({'cert': '/etc/ssl/certs/a.pem'},
     ['%s.tls.key must be the absolute path of the private key file on the host; tls needs both cert and key.' % P]),
    ({'cert': 'a.pem', 'key': '/k.pem'},
     ['%s.tls.cert must be the absolute path of the certificate file on the host; tls needs both cert and key.' % P]),
    ({},
     ['%s.tls.cert must be the absolute path of the certificate file on the host; tls needs both cert and key.' % P,
      '%s.tls.key must be the absolute path of the private key file on the host; tls needs both cert and key.' % P]),
    ({'cert': '/c.pem', 'key': '/k.pem', 'port': 80},
     ['%s.tls.port must be a TCP port between 1 and 65535, other than port; got "80".' % P]),
    ({'cert': '/c.pem', 'key': '/k.pem', 'port': 65536},
     ['%s.tls.port must be a TCP port between 1 and 65535, other than port; got "65536".' % P]),
    ({'cert': '/c.pem', 'key': '/k.pem', 'port': '443'},
     ['%s.tls.port must be a TCP port between 1 and 65535, other than port; got "443".' % P]),
    ({'cert': '/c.pem', 'key': '/k.pem', 'chain': '/ch.pem', 'port': 8443, 'redirect_http': False}, []),
], ids=['no-key', 'relative-cert', 'empty', 'same-port', 'port-range', 'port-string', 'good'])
def test_tls(source, tls, expected):
    assert errors([app(source, tls=tls)]) == expected


@pytest.mark.parametrize('health, expected', [
    ({'path': 'health'}, ["%s.health_check.path must start with '/'; got \"health\"." % P]),
    ({'path': None}, ["%s.health_check.path must start with '/'; got \"None\"." % P]),
    ({'status': 99}, ['%s.health_check.status must be an HTTP status between 100 and 599; got "99".' % P]),
    ({'status': 600}, ['%s.health_check.status must be an HTTP status between 100 and 599; got "600".' % P]),
    ({'status': '200'}, ['%s.health_check.status must be an HTTP status between 100 and 599; got "200".' % P]),
    ({'timeout': 0}, ['%s.health_check.timeout must be between 1 and 3600 seconds; got "0".' % P]),
    ({'timeout': 3601}, ['%s.health_check.timeout must be between 1 and 3600 seconds; got "3601".' % P]),
    ({'path': '/health', 'status': 204, 'timeout': 5}, []),
], ids=['path', 'path-null', 'status-low', 'status-high', 'status-string', 'timeout-low', 'timeout-high', 'good'])
def test_health_check(source, health, expected):
    assert errors([app(source, health_check=health)]) == expected


@pytest.mark.parametrize('key, what', [
    ('pre_switch', 'a list of commands (strings)'),
    ('extra_directives', 'a list of Apache configuration lines (strings)'),
])
@pytest.mark.parametrize('value', ['one line', [5], None], ids=['string', 'list-item', 'null'])
def test_lists_of_strings(source, key, what, value):
    assert errors([app(source, **{key: value})]) == ['%s.%s must be %s.' % (P, key, what)]


EMBEDDED_REMOVED = ('%s.mode: embedded mode was removed in 0.2.0; every app runs in its own daemon processes as its own user. '
                    'Drop the mode key.' % P)


# Embedded mode is gone (0.2.0): whatever the server's restrict_embedded, daemon is the only mode.
@pytest.mark.parametrize('changes, server, expected', [
    ({'mode': 'threaded'}, None, ['%s.mode must be daemon (the only mode); got "threaded".' % P]),
    ({'mode': None}, None, ['%s.mode must be daemon (the only mode); got "None".' % P]),
    ({'mode': 'Daemon'}, None, ['%s.mode must be daemon (the only mode); got "Daemon".' % P]),
    ({'mode': 'embedded'}, None, [EMBEDDED_REMOVED]),
    ({'mode': 'embedded'}, dict(SERVER, restrict_embedded='yes'), [EMBEDDED_REMOVED]),
    ({'mode': 'embedded'}, dict(SERVER, restrict_embedded=False), [EMBEDDED_REMOVED]),
    ({'mode': 'embedded'}, {}, [EMBEDDED_REMOVED]),
    ({'mode': 'daemon'}, dict(SERVER, restrict_embedded=False), []),
    ({'mode': 'daemon'}, {}, []),
], ids=['unknown', 'null', 'case', 'embedded-restricted', 'embedded-restricted-string', 'embedded-allowed',
        'embedded-no-server', 'daemon', 'daemon-no-server'])
def test_mode(source, changes, server, expected):
    assert errors([app(source, **changes)], server=server) == expected


def test_state(source):
    assert errors([app(source, state='gone', port=0)]) == ['%s.state must be present or absent; got "gone".' % P]


def test_an_absent_app_only_needs_a_name_and_state(source):
    assert errors([{'name': 'hello', 'state': 'absent', 'port': 0, 'server_name': 'bad name'}]) == []
    assert errors([{'name': 'Bad', 'state': 'absent'}]) == [
        "modwsgi_apps[0] (Bad).name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter or digit; "
        "got \"Bad\"."]


def test_every_error_at_once_in_the_roles_order(source):
    bad = app(source, name='Bad', user='u', group='g', port=0, python='python3', mode='threaded', env={'A-B': 1},
              tls={'cert': '/c'}, source={'type': 'git'})
    second = app(source, name='second', state='maybe')
    assert errors([bad, second]) == [
        "modwsgi_apps[0] (Bad).name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter or digit; "
        "got \"Bad\".",
        'modwsgi_apps[0] (Bad).port must be a TCP port between 1 and 65535; got "0".',
        'modwsgi_apps[0] (Bad).source.repo must name the git repository to clone.',
        'modwsgi_apps[0] (Bad).python must be the absolute path of a Python interpreter on the host; got "python3".',
        "modwsgi_apps[0] (Bad).env has a bad variable name \"A-B\": use letters, digits and '_', not starting with a digit.",
        'modwsgi_apps[0] (Bad).tls.key must be the absolute path of the private key file on the host; tls needs both cert and key.',
        'modwsgi_apps[0] (Bad).mode must be daemon (the only mode); got "threaded".',
        'modwsgi_apps[1] (second).state must be present or absent; got "maybe".',
    ]


def test_key_errors_take_the_merged_apps(source):
    merged = merge([app(source, port=0)])
    assert app_model.key_errors(merged, SERVER) == ['%s.port must be a TCP port between 1 and 65535; got "0".' % P]
    assert app_model.key_errors(merged) == app_model.key_errors(merged, {})


# ---------------------------------------------------------------------------
# The keys of 0.2.0: entry_point factories, setup, shared, files, default_site, pass_authorization and the
# ${MODWSGI_APP...} references
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('entry_point', [
    'hello:app', 'mysite.wsgi:application', 'myapp.server:app.wsgi_app', 'blog:create_app()',
    "blog:create_app('production', debug=False)", "pypiserver:app(roots=['${MODWSGI_APP_DATA}/packages'])",
    "app:make(config={'path': '${MODWSGI_APP_CONFIG}/app.ini', 'workers': [1, 2.5, None, True]})",
])
def test_entry_point_accepts_callables_and_factory_calls_of_literals(source, entry_point):
    assert errors([app(source, entry_point=entry_point)]) == []


@pytest.mark.parametrize('entry_point, problem', [
    ('a:b:c', 'there is more than one colon before the arguments'),
    (':app', 'the module part is empty'),
    ('1hello:app', "'1hello' in the module part is not a Python identifier"),
    ('blog:create_app(x)', 'argument 1 (x) is a name (strings need quotes), not a Python literal: only strings, numbers, '
                           'True, False, None and lists, tuples, dicts and sets of them are accepted'),
    ('blog:create_app()()', 'only one call, at the end, is accepted (no calls of its result, attribute access or '
                            'operators after it)'),
    ('blog:create_app(*args)', '*args is not accepted, write the arguments out'),
    ('blog:create_app(', 'the call is not valid Python (\'(\' was never closed)'),
], ids=['two-colons', 'no-module', 'identifier', 'name-argument', 'two-calls', 'star-args', 'unclosed'])
def test_entry_point_message_names_the_problem(source, entry_point, problem):
    assert errors([app(source, entry_point=entry_point)]) == [
        '%s.entry_point %r %s; %s.' % (P, entry_point, ENTRY_POINT_FORMS, problem)]


@pytest.mark.parametrize('value', [None, 5, ['hello:app']], ids=['null', 'number', 'list'])
def test_entry_point_that_is_no_string(source, value):
    assert errors([app(source, entry_point=value)]) == [
        "%s.entry_point must be 'module:callable' (e.g. 'hello:app') or a factory call 'module:factory()' or "
        "'module:factory(<Python literals>)' (e.g. 'blog:create_app()'); got %s." % (P, app_model._quoted(value))]


def test_entry_point_argument_naming_an_unknown_directory(source):
    # The parser of the arguments refuses it, in one message.
    entry_point = "blog:create_app('${MODWSGI_APP_DIR}/x')"
    assert errors([app(source, entry_point=entry_point)]) == [
        "%s.entry_point %r %s; in argument 1 ('${MODWSGI_APP_DIR}/x'), ${MODWSGI_APP_DIR} is not one of the names "
        "expanded in entry_point arguments: %s." % (P, entry_point, ENTRY_POINT_FORMS, NAMES)]


NAMES = '${MODWSGI_APP}, ${MODWSGI_APP_ROOT}, ${MODWSGI_APP_DATA}, ${MODWSGI_APP_CONFIG}, ${MODWSGI_APP_RELEASE}'
CONFIG = '/srv/modwsgi/hello/config'
SHARED = "%s.shared[0] must be a directory relative to the source root (e.g. 'instance'); %s is not: %s."
FILE_PATH = ("%s.files[0].path must be a file name in the app's config directory (" + CONFIG + "), such as 'settings.ini', "
             "a path starting with ${MODWSGI_APP_DATA}/, ${MODWSGI_APP_CONFIG}/ or ${MODWSGI_APP_RELEASE}/, or an absolute "
             "path; got %s.")
INSIDE = ("%s.files[0].path \"%s\" is inside the app's directory, which the role manages; put it in its config directory "
          "(a bare file name, or ${MODWSGI_APP_CONFIG}/...) or its data directory (${MODWSGI_APP_DATA}/...) instead.")
NOT_NORMAL = '%s.files[0].path must be a normalized absolute path without spaces, quotes or other ${...} names; got "%s".'


@pytest.mark.parametrize('changes, expected', [
    # setup: a list of commands
    ({'setup': 'flask db upgrade'}, ['%s.setup must be a list of commands (strings).' % P]),
    ({'setup': ['flask db upgrade', 5]}, ['%s.setup must be a list of commands (strings).' % P]),
    ({'setup': None}, ['%s.setup must be a list of commands (strings).' % P]),
    # default_site and pass_authorization: booleans, not truthy strings
    ({'default_site': 'yes'}, ['%s.default_site must be true or false; got "yes".' % P]),
    ({'default_site': None}, ['%s.default_site must be true or false; got "None".' % P]),
    ({'default_site': 1}, ['%s.default_site must be true or false; got "1".' % P]),
    ({'pass_authorization': 'true'}, ['%s.pass_authorization must be true or false; got "true".' % P]),
    ({'pass_authorization': 0}, ['%s.pass_authorization must be true or false; got "0".' % P]),
    # shared: directories of the source, linked to the data directory
    ({'shared': 'instance'}, ["%s.shared must be a list of directories relative to the source root, such as "
                              "['instance', 'media']." % P]),
    ({'shared': {'instance': 1}}, ["%s.shared must be a list of directories relative to the source root, such as "
                                   "['instance', 'media']." % P]),
    ({'shared': ['instance'], 'source': {'type': 'pypi', 'spec': 'x'}},
     ['%s.shared needs a dir, git or archive source: a pypi source has no source directory to link from.' % P]),
    ({'shared': ['/srv/media']}, [SHARED % (P, '"/srv/media"', 'it is absolute')]),
    ({'shared': ['a/../b']}, [SHARED % (P, '"a/../b"', "it has an empty, '.' or '..' part")]),
    ({'shared': ['media/']}, [SHARED % (P, '"media/"', "it has an empty, '.' or '..' part")]),
    ({'shared': ['./media']}, [SHARED % (P, '"./media"', "it has an empty, '.' or '..' part")]),
    ({'shared': ['']}, [SHARED % (P, '""', 'it is empty or not a string')]),
    ({'shared': [5]}, [SHARED % (P, '"5"', 'it is empty or not a string')]),
    ({'shared': ['my media']}, [SHARED % (P, '"my media"', 'it has spaces or quotes')]),
    ({'shared': ['venv/lib']}, [SHARED % (P, '"venv/lib"', 'the release keeps its virtualenv there')]),
    ({'shared': ['instance', 'media', 'instance']}, ['%s.shared lists "instance" twice.' % P]),
    # files: the app's own configuration files
    ({'files': 'settings.ini'}, ['%s.files must be a list of dicts, each with path and content or src.' % P]),
    ({'files': {'path': 'a.ini'}}, ['%s.files must be a list of dicts, each with path and content or src.' % P]),
    ({'files': ['settings.ini']}, ['%s.files[0] must be a dict with path and content or src; got "settings.ini".' % P]),
    ({'files': [{'path': 'a.ini', 'content': 'x', 'owner': 'root', 'dest': '/x'}]},
     ['%s.files[0] has unknown keys dest, owner; the keys are path, content, src, mode, secret.' % P]),
    ({'files': [{'path': '/etc//a.ini', 'content': 'x'}]},
     [NOT_NORMAL % (P, '/etc//a.ini')]),
    ({'files': [{'path': '/etc/my app.ini', 'content': 'x'}]},
     [NOT_NORMAL % (P, '/etc/my app.ini')]),
    ({'files': [{'path': '/srv/modwsgi/hello/env.json', 'content': 'x'}]},
     [INSIDE % (P, '/srv/modwsgi/hello/env.json')]),
    ({'files': [{'path': '/srv/modwsgi/hello/current/src/app.ini', 'content': 'x'}]},
     [INSIDE % (P, '/srv/modwsgi/hello/current/src/app.ini')]),
    ({'files': [{'path': 'conf/a.ini', 'content': 'x'}]}, [FILE_PATH % (P, '"conf/a.ini"')]),
    ({'files': [{'path': '..', 'content': 'x'}]}, [FILE_PATH % (P, '".."')]),
    ({'files': [{'path': '', 'content': 'x'}]}, [FILE_PATH % (P, '""')]),
    ({'files': [{'path': 5, 'content': 'x'}]}, [FILE_PATH % (P, '"5"')]),
    ({'files': [{'content': 'x'}]}, [FILE_PATH % (P, '"nothing"')]),
    ({'files': [{'path': 'a.ini'}]},
     ['%s.files[0] needs exactly one of content (the text) and src (a file or template on the controller).' % P]),
    ({'files': [{'path': 'a.ini', 'content': None}]},
     ['%s.files[0] needs exactly one of content (the text) and src (a file or template on the controller).' % P]),
    ({'files': [{'path': 'a.ini', 'content': 'x', 'src': 'a.ini.j2'}]},
     ['%s.files[0] needs exactly one of content (the text) and src (a file or template on the controller).' % P]),
    ({'files': [{'path': 'a.ini', 'content': {'a': 1}}]},
     ['%s.files[0].content must be a string (use a YAML block scalar for several lines).' % P]),
    ({'files': [{'path': 'a.ini', 'src': 'templates/a.ini.j2'}]},
     ['%s.files[0].src must be an existing file on the controller (relative paths are relative to the playbook); got '
      '"templates/a.ini.j2".' % P]),
    ({'files': [{'path': 'a.ini', 'src': 5}]},
     ['%s.files[0].src must be an existing file on the controller (relative paths are relative to the playbook); got '
      '"5".' % P]),
    ({'files': [{'path': 'a.ini', 'content': 'x', 'mode': '0888'}]},
     ["%s.files[0].mode must be an octal mode in quotes, such as '0640'; got \"0888\"." % P]),
    ({'files': [{'path': 'a.ini', 'content': 'x', 'mode': 'u=rw'}]},
     ["%s.files[0].mode must be an octal mode in quotes, such as '0640'; got \"u=rw\"." % P]),
    ({'files': [{'path': 'a.ini', 'content': 'x', 'mode': 416}]},
     ["%s.files[0].mode must be an octal mode in quotes, such as '0640'; got \"416\" (an unquoted 0640 reaches Ansible as "
      "the number 416)." % P]),
    ({'files': [{'path': 'a.ini', 'content': 'x', 'secret': 'yes'}]},
     ['%s.files[0].secret must be true or false; got "yes".' % P]),
    ({'files': [{'path': 'a.ini', 'content': 'x'}, {'path': CONFIG + '/a.ini', 'content': 'y'}]},
     ['%s.files writes %s/a.ini more than once.' % (P, CONFIG)]),
    # ${MODWSGI_APP...}: only the five names the role sets
    ({'env': {'A': '${MODWSGI_APP_DIR}/x', 'B': '${MODWSGI_APP_DATA}'}},
     ['%s.env refers to ${MODWSGI_APP_DIR}, which the role does not set; the names it expands are %s.' % (P, NAMES)]),
    ({'setup': ['cp ${MODWSGI_APP_SRC}/a ${MODWSGI_APP_HOME} ${MODWSGI_APP_SRC}']},
     ['%s.setup refers to ${MODWSGI_APP_SRC}, ${MODWSGI_APP_HOME}, which the role does not set; the names it expands are '
      '%s.' % (P, NAMES)]),
    ({'pre_switch': ['ls ${MODWSGI_APPS}']},
     ['%s.pre_switch refers to ${MODWSGI_APPS}, which the role does not set; the names it expands are %s.' % (P, NAMES)]),
    ({'files': [{'path': 'a.ini', 'content': 'db = ${MODWSGI_APP_DB}'}]},
     ['%s.files refers to ${MODWSGI_APP_DB}, which the role does not set; the names it expands are %s.' % (P, NAMES)]),
    ({'secret_env': {'TOKEN_FILE': '${MODWSGI_APP_DATA}/token'}},
     ['%s.secret_env values are never expanded, but they name ${MODWSGI_APP_DATA}: put such a variable in env instead.' % P]),
    ({'secret_env': {'A': '${MODWSGI_APP_DATA}/a', 'B': '${MODWSGI_APP_CONFIG}/b ${MODWSGI_APP_NOPE}'}},
     ['%s.secret_env values are never expanded, but they name ${MODWSGI_APP_DATA}, ${MODWSGI_APP_CONFIG}, '
      '${MODWSGI_APP_NOPE}: put such a variable in env instead.' % P]),
], ids=['setup-string', 'setup-item', 'setup-null', 'default-site-string', 'default-site-null', 'default-site-number',
        'pass-authorization-string', 'pass-authorization-number', 'shared-string', 'shared-dict', 'shared-pypi',
        'shared-absolute', 'shared-dotdot', 'shared-trailing-slash', 'shared-dot', 'shared-empty', 'shared-number',
        'shared-space', 'shared-venv', 'shared-twice', 'files-string', 'files-dict', 'files-entry', 'files-unknown-keys',
        'files-absolute-unnormalized', 'files-absolute-space', 'files-in-app-dir', 'files-in-release', 'files-subdir',
        'files-dotdot', 'files-empty-path', 'files-number-path', 'files-no-path', 'files-neither', 'files-null-content',
        'files-both', 'files-content-dict', 'files-src-missing', 'files-src-number', 'files-mode-digit', 'files-mode-symbolic',
        'files-mode-int', 'files-secret', 'files-twice', 'reference-env', 'reference-setup', 'reference-pre-switch',
        'reference-files', 'secret-env-one', 'secret-env-some'])
def test_new_keys(source, changes, expected):
    assert errors([app(source, **changes)]) == expected


def test_new_keys_good_values(source, tmp_path):
    template = tmp_path / 'templates' / 'settings.ini.j2'
    template.parent.mkdir()
    template.write_text('debug = false\n')
    good = app(source, setup=['flask db upgrade', 'touch ${MODWSGI_APP_DATA}/ready'], shared=['instance', 'media/uploads'],
               default_site=True, pass_authorization=True,
               env={'ALL': ' '.join('${%s}' % name for name in app_model.DIRECTORY_NAMES), 'OTHER': '${HOME} $MODWSGI_APP_X'},
               secret_env={'TOKEN': '$ecret ${HOME}'},
               files=[{'path': 'settings.ini', 'src': 'templates/settings.ini.j2'},
                      {'path': 'app.ini', 'content': 'root = ${MODWSGI_APP_ROOT}\n', 'mode': '600', 'secret': True},
                      {'path': '/etc/hello.ini', 'content': ''},
                      {'path': CONFIG + '/other.ini', 'content': 'x', 'mode': '0644'},
                      {'path': '/srv/modwsgi/hello/data/db.ini', 'content': 'x'}])
    # A relative src is relative to the playbook's directory.
    assert app_model.app_errors([good], {}, ROOT, SERVER, 2, str(tmp_path)) == []
    assert errors([dict(good, files=[{'path': 'a.ini', 'src': str(template)}])]) == []


@pytest.mark.parametrize('path', ['/srv/modwsgi/hello', '/srv/modwsgi/hello/config', '/srv/modwsgi/hello/data',
                                  '/srv/modwsgi/hello/data/.modwsgi-setup', '/srv/modwsgi/hello/data/.modwsgi-setup/x'],
                         ids=['app-dir', 'config-dir', 'data-dir', 'setup-records', 'a-setup-record'])
def test_files_absolute_path_may_not_be_a_directory_of_the_role(source, path):
    assert errors([app(source, files=[{'path': path, 'content': 'x'}])]) == [INSIDE % (P, path)]


def test_new_key_messages_come_after_the_others_in_order(source):
    bad = app(source, mode='embedded', pre_switch='x', setup='y', default_site='no', pass_authorization='no',
              shared='instance', files='a.ini', env={'A': '${MODWSGI_APP_X}'}, secret_env={'B': '${MODWSGI_APP}'})
    assert errors([bad]) == [
        '%s.pre_switch must be a list of commands (strings).' % P,
        '%s.setup must be a list of commands (strings).' % P,
        EMBEDDED_REMOVED,
        '%s.default_site must be true or false; got "no".' % P,
        '%s.pass_authorization must be true or false; got "no".' % P,
        "%s.shared must be a list of directories relative to the source root, such as ['instance', 'media']." % P,
        '%s.files must be a list of dicts, each with path and content or src.' % P,
        '%s.env refers to ${MODWSGI_APP_X}, which the role does not set; the names it expands are %s.' % (P, NAMES),
        '%s.secret_env values are never expanded, but they name ${MODWSGI_APP}: put such a variable in env instead.' % P,
    ]


def test_new_keys_of_an_absent_app_are_not_checked(source):
    assert errors([app(source, state='absent', setup='x', shared='y', files='z', default_site='no', mode='embedded')]) == []


def test_merge_normalizes_the_files_entries(source):
    merged = merge([app(source, files=[
        {'path': 'settings.ini', 'content': 'a'},
        'not a dict',
        {'path': '/etc/hello.ini', 'src': 'templates/hello.ini.j2', 'mode': '0600', 'secret': True},
        {'path': 'x.ini', 'src': '/abs/x.ini.j2'},
    ])])[0]
    assert merged['files'][1] == 'not a dict'
    common = {'release': False, 'rel': None}
    assert merged['_files'] == [
        dict(common, index=0, path=CONFIG + '/settings.ini', written='settings.ini', content='a', src=None, mode='0640',
             secret=False),
        dict(common, index=2, path='/etc/hello.ini', written='/etc/hello.ini', content=None,
             src='/playbooks/templates/hello.ini.j2', mode='0600', secret=True),
        dict(common, index=3, path=CONFIG + '/x.ini', written='x.ini', content=None, src='/abs/x.ini.j2', mode='0640',
             secret=False),
    ]
    assert merge([app(source, files='x')])[0]['_files'] == []
    assert merge([app(source, files={'path': 'a'})])[0]['_files'] == []


# ---------------------------------------------------------------------------
# What several apps claim
# ---------------------------------------------------------------------------

def test_duplicate_name(source):
    assert errors([app(source), app(source, server_name='other.example.com')]) == [
        "modwsgi_apps: the name 'hello' is used by 2 apps; every app needs a name of its own.",
        "modwsgi_apps: the user 'wsgi-hello' is given to several apps (hello, hello); every app runs as its own user.",
    ]


def test_duplicate_name_counts_absent_apps_too(source):
    assert errors([app(source), app(source, state='absent'), app(source, state='absent')]) == [
        "modwsgi_apps: the name 'hello' is used by 3 apps; every app needs a name of its own."]


def test_duplicate_url(source):
    assert errors([app(source), app(source, name='other')]) == [
        'modwsgi_apps: several apps claim server_name:port:mount hello.example.com:80:/; give each app on one server_name '
        'and port its own mount.']


def test_duplicate_url_of_an_absent_app_is_fine(source):
    assert errors([app(source), app(source, name='other', state='absent')]) == []


def test_duplicate_user(source):
    assert errors([app(source, user='shared'), app(source, name='other', mount='/other', user='shared'),
                   app(source, name='third', mount='/third', user='shared', state='absent')]) == [
        "modwsgi_apps: the user 'shared' is given to several apps (hello, other); every app runs as its own user."]


def test_apps_on_one_site_need_the_same_tls(source):
    tls = {'cert': '/c.pem', 'key': '/k.pem'}
    assert errors([app(source, tls=tls), app(source, name='other', mount='/other')]) == [
        'modwsgi_apps: hello, other share server_name and port (hello.example.com-80) but not the same tls settings; '
        'give them identical tls (or none).']
    assert errors([app(source, tls=tls), app(source, name='other', mount='/other', tls=dict(tls))]) == []


def test_apps_on_one_site_need_the_same_aliases(source):
    assert errors([app(source, server_aliases=['a.example.com', 'b.example.com']),
                   app(source, name='other', mount='/other', server_aliases=['b.example.com', 'a.example.com'])]) == []
    assert errors([app(source, server_aliases=['a.example.com']),
                   app(source, name='other', mount='/other', server_aliases=['b.example.com'])]) == [
        'modwsgi_apps: hello, other share server_name and port (hello.example.com-80) but list different server_aliases; '
        'give them the same list.']


def test_apps_on_other_ports_are_other_sites(source):
    assert errors([app(source, tls={'cert': '/c.pem', 'key': '/k.pem'}, server_aliases=['a.example.com']),
                   app(source, name='other', port=8080)]) == []


def test_set_errors_alone(source):
    merged = merge([app(source), app(source, name='other')])
    assert app_model.set_errors(merged) == [
        'modwsgi_apps: several apps claim server_name:port:mount hello.example.com:80:/; give each app on one server_name '
        'and port its own mount.']


def test_key_errors_come_before_set_errors(source):
    assert errors([app(source, port=0), app(source, name='other', port=0)]) == [
        '%s.port must be a TCP port between 1 and 65535; got "0".' % P,
        'modwsgi_apps[1] (other).port must be a TCP port between 1 and 65535; got "0".',
        'modwsgi_apps: several apps claim server_name:port:mount hello.example.com:0:/; give each app on one server_name and '
        'port its own mount.',
    ]


def test_set_checks_survive_apps_with_bad_keys(source):
    # Without a server_name or with aliases that are no list, the key errors say what is wrong.
    assert errors([app(source, server_name=DROP, server_aliases=None), app(source, name='other', server_name=DROP)])[:1] == [
        "%s.server_name must be a host name such as 'www.example.com'; got \"nothing\"." % P]
    assert errors([app(source, server_aliases=[1, 'a']), app(source, name='other', mount='/o', server_aliases=['a', 'b'])]) == [
        '%s.server_aliases must hold host names; "1" is not one.' % P,
        'modwsgi_apps: hello, other share server_name and port (hello.example.com-80) but list different server_aliases; '
        'give them the same list.']


def test_one_default_site_per_port(source):
    assert errors([app(source, default_site=True), app(source, name='other', server_name='other.example.com', default_site=True),
                   app(source, name='third', server_name='third.example.com', default_site=True, port=8080)]) == [
        'modwsgi_apps: hello, other all set default_site on port 80; only one virtual host can answer the unknown host names '
        'of a port.']


@pytest.mark.parametrize('others', [
    # Two apps of one site (one server_name and port) may both set it.
    [app('/tmp', name='other', mount='/other', default_site=True)],
    [app('/tmp', name='other', server_name='HELLO.example.com', mount='/other', default_site=True)],
    [app('/tmp', name='other', server_name='other.example.com', port=8080, default_site=True)],
    [app('/tmp', name='other', server_name='other.example.com', default_site=False)],
    [app('/tmp', name='other', server_name='other.example.com', default_site=True, state='absent')],
], ids=['same-site', 'same-site-other-case', 'other-port', 'not-default', 'absent'])
def test_default_sites_that_do_not_clash(source, others):
    assert errors([app(source, default_site=True)] + [dict(other, source={'type': 'dir', 'path': source}) for other in others]) == []


# ---------------------------------------------------------------------------
# The host's interpreters and TLS files
# ---------------------------------------------------------------------------

def test_python_errors(source):
    merged = merge([app(source), app(source, name='other', mount='/other'), app(source, name='gone', state='absent'),
                    app(source, name='third', mount='/third', python='/opt/py/bin/python3.12')])
    results = [
        {'item': '/usr/bin/python3', 'rc': 0, 'stdout': '3.11', 'stderr': ''},
        {'item': '/opt/py/bin/python3.12', 'rc': 0, 'stdout': '3.12', 'stderr': ''},
    ]
    assert app_model.python_errors(merged, results, '3.11') == [
        'modwsgi_apps python /opt/py/bin/python3.12 (used by third) is Python 3.12, but mod_wsgi on this host was built for '
        'Python 3.11, and mod_wsgi can only run apps on the Python it was built for. Either build mod_wsgi for Python 3.12 '
        'with the server role (modwsgi_install_method: pip and modwsgi_python: /opt/py/bin/python3.12), or set python to a '
        'Python 3.11 interpreter.']
    assert app_model.python_errors(merged, results, '3.12') == [
        'modwsgi_apps python /usr/bin/python3 (used by hello, other) is Python 3.11, but mod_wsgi on this host was built for '
        'Python 3.12, and mod_wsgi can only run apps on the Python it was built for. Either build mod_wsgi for Python 3.11 '
        'with the server role (modwsgi_install_method: pip and modwsgi_python: /usr/bin/python3), or set python to a '
        'Python 3.12 interpreter.']


@pytest.mark.parametrize('result, why', [
    ({'rc': 2, 'stdout': '', 'stderr': ''}, 'it does not exist or cannot run'),
    ({'rc': 2, 'stdout': '', 'stderr': None}, 'it does not exist or cannot run'),
    ({'rc': 1, 'stdout': '', 'stderr': 'Traceback (most recent call last):\nModuleNotFoundError: No module named \'venv\''},
     "ModuleNotFoundError: No module named 'venv'"),
    ({'rc': 1, 'stdout': '', 'stderr': 'first\n\n'}, 'it does not exist or cannot run'),
    ({'skipped': True}, 'it does not exist or cannot run'),
], ids=['missing', 'no-stderr', 'no-venv', 'blank-last-line', 'no-rc'])
def test_python_that_cannot_run(source, result, why):
    merged = merge([app(source, python='/opt/nowhere/bin/python3')])
    assert app_model.python_errors(merged, [dict(result, item='/opt/nowhere/bin/python3')], '3.11') == [
        'modwsgi_apps python /opt/nowhere/bin/python3 (used by hello) cannot make virtualenvs on this host (%s). Point python '
        'at an interpreter with the venv module (on Debian: python3-venv).' % why]


def test_python_errors_without_results(source):
    assert app_model.python_errors(merge([app(source)]), [], '3.11') == []
    assert app_model.python_errors(merge([app(source)]), None, '3.11') == []


def test_tls_files(source):
    merged = merge([
        app(source, tls={'cert': '/c.pem', 'key': '/k.pem', 'chain': '/ch.pem'}),
        app(source, name='plain', mount='/plain'),
        app(source, name='gone', state='absent', tls={'cert': '/g.pem', 'key': '/g.key'}),
        app(source, name='other', port=8080, tls={'cert': '/o.pem', 'key': '/o.key', 'port': 8443}),
    ])
    assert app_model.tls_files(merged) == [
        ['hello.tls.cert', '/c.pem'], ['hello.tls.key', '/k.pem'], ['hello.tls.chain', '/ch.pem'],
        ['other.tls.cert', '/o.pem'], ['other.tls.key', '/o.key']]


def test_missing_tls_files_name_the_absent_ones_first():
    results = [
        {'item': ['hello.tls.cert', '/dir.pem'], 'stat': {'exists': True, 'isreg': False}},
        {'item': ['hello.tls.key', '/k.pem'], 'stat': {'exists': True, 'isreg': True}},
        {'item': ['other.tls.cert', '/nowhere.pem'], 'stat': {'exists': False}},
    ]
    assert app_model.missing_tls_files(results) == [['other.tls.cert', '/nowhere.pem'], ['hello.tls.cert', '/dir.pem']]
    assert app_model.tls_errors(results) == [
        'modwsgi_apps: other.tls.cert names /nowhere.pem, hello.tls.cert names /dir.pem, which is not a file on this host. '
        'Put the certificate, key and chain on the host first (for example with certbot or a copy task).']
    assert app_model.tls_errors(results[1:2]) == []
    assert app_model.tls_errors([]) == []


def test_missing_tls_message():
    assert app_model.missing_tls_message([['hello.tls.cert', '/etc/ssl/certs/nowhere.pem']]) == (
        'modwsgi_apps: hello.tls.cert names /etc/ssl/certs/nowhere.pem, which is not a file on this host. Put the '
        'certificate, key and chain on the host first (for example with certbot or a copy task).')


# ---------------------------------------------------------------------------
# Daemon processes
# ---------------------------------------------------------------------------

def recorder(calls):
    def render(options, version, context=None):
        calls.append((options, version, context))
        return 'line of %s' % context.split(' ')[1]
    return render


def test_daemon_lines_options_and_order(source):
    merged = merge([
        app(source, daemon_options={'maximum-requests': 100, 'request-timeout': None, 'processes': 8}),
        # Daemon mode is the only one (0.2.0): a leftover mode key (refused by the preflight) changes nothing here.
        app(source, name='embedded', mount='/e', mode='embedded'),
        app(source, name='gone', state='absent'),
        app(source, name='pypi', mount='/p', source={'type': 'pypi', 'spec': 'x'}, processes=3, threads=15),
    ], cpus=4)
    calls = []
    assert app_model.daemon_lines(merged, '5.0.2', recorder(calls)) == {
        'hello': 'line of (hello).daemon_options', 'embedded': 'line of (embedded).daemon_options',
        'pypi': 'line of (pypi).daemon_options'}
    assert [context for dummy, dummy2, context in calls] == [
        'modwsgi_apps[0] (hello).daemon_options', 'modwsgi_apps[1] (embedded).daemon_options',
        'modwsgi_apps[3] (pypi).daemon_options']
    (first, version, context), second = calls[0], calls[2]
    assert version == '5.0.2'
    assert context == 'modwsgi_apps[0] (hello).daemon_options'
    assert list(first.items()) == [
        ('processes', 8), ('threads', 5), ('user', 'wsgi-hello'), ('group', 'wsgi-hello'), ('display-name', '%{GROUP}'),
        ('home', '/srv/modwsgi/hello/current'), ('python-home', '/srv/modwsgi/hello/current/venv'),
        ('python-path', '/srv/modwsgi/hello/current/src'), ('lang', 'C.UTF-8'), ('locale', 'C.UTF-8'),
        ('request-timeout', None), ('deadlock-timeout', 60), ('startup-timeout', 15), ('graceful-timeout', 15),
        ('shutdown-timeout', 5), ('connect-timeout', 15), ('socket-timeout', 60), ('queue-timeout', 45),
        ('maximum-requests', 100)]
    assert second[2] == 'modwsgi_apps[3] (pypi).daemon_options'
    assert second[0]['python-path'] is None
    assert (second[0]['processes'], second[0]['threads']) == (3, 15)


def test_daemon_options_null_is_no_options(source):
    merged = merge([app(source, daemon_options=None)])
    assert list(app_model.daemon_option_sets(merged)['hello'][0])[-1] == 'queue-timeout'


def test_daemon_options_must_be_a_dict(source):
    merged = merge([app(source, daemon_options='user=x')])
    with pytest.raises(TypeError, match=re.escape('modwsgi_apps[0] (hello).daemon_options: expected a dictionary')):
        app_model.daemon_option_sets(merged)


# ---------------------------------------------------------------------------
# Virtual hosts
# ---------------------------------------------------------------------------

def test_sites(source):
    tls = {'cert': '/c.pem', 'key': '/k.pem'}
    merged = merge([
        app(source, name='root', mount='/', tls=tls, static=[{'url': '/static', 'path': 'root/static'}],
            secret_env={'TOKEN': 's'}, server_aliases=['www.hello.example.com']),
        app(source, name='api', mount='/api', tls=tls, server_aliases=['www.hello.example.com'],
            static=[{'url': '/api/static/long', 'path': '/var/www/long'}, {'url': '/s', 'path': 's'}]),
        app(source, name='v1', mount='/api/v1', tls=tls, server_aliases=['www.hello.example.com'],
            files=[{'path': 'v1.ini', 'content': 'secret=1', 'secret': True}]),
        app(source, name='other', server_name='Another.example.com', port=8080),
        app(source, name='gone', server_name='gone.example.com', state='absent'),
    ])
    lines = {'root': 'ROOT', 'api': 'API', 'v1': 'V1', 'other': 'OTHER'}
    result = app_model.sites(merged, lines, '/var/log/apache2', [80, 443])
    sites = result['sites']
    assert [s['key'] for s in sites] == ['Another.example.com-8080', 'hello.example.com-80']
    hello = sites[1]
    assert [a['name'] for a in hello['apps']] == ['v1', 'api', 'root']
    assert [a['daemon_line'] for a in hello['apps']] == ['V1', 'API', 'ROOT']
    # Neither secret_env nor the files (whose content may be secret) reach the sites.
    assert all(not set(a) & {'secret_env', 'files', '_files'} for s in sites for a in s['apps'])
    assert 'secret_env' in merged[0] and merged[2]['files'] and merged[2]['_files']
    expected_app = dict(merged[0], daemon_line='ROOT')
    for key in ('secret_env', 'files', '_files'):
        del expected_app[key]
    assert hello['apps'][2] == expected_app
    assert hello['static'] == [
        {'order': '00016 /api/static/long', 'url': '/api/static/long', 'dir': '/var/www/long'},
        {'order': '00007 /static', 'url': '/static', 'dir': '/srv/modwsgi/root/current/src/root/static'},
        {'order': '00002 /s', 'url': '/s', 'dir': '/srv/modwsgi/api/current/src/s'},
    ]
    assert {k: v for k, v in hello.items() if k not in ('apps', 'static')} == {
        'key': 'hello.example.com-80',
        'define': 'MODWSGI_STAGED_HELLO_EXAMPLE_COM_80',
        'server_name': 'hello.example.com',
        'port': 80,
        'aliases': ['www.hello.example.com'],
        'tls': {'port': 443, 'redirect_http': True, 'chain': None, 'cert': '/c.pem', 'key': '/k.pem'},
        'default_site': False,
        'log_prefix': '/var/log/apache2/modwsgi-hello.example.com-80',
        'file': 'modwsgi-hello.example.com-80.conf',
    }
    assert list(hello) == ['key', 'define', 'server_name', 'port', 'aliases', 'tls', 'default_site', 'apps', 'static',
                           'log_prefix', 'file']
    assert sites[0]['define'] == 'MODWSGI_STAGED_ANOTHER_EXAMPLE_COM_8080'
    assert sites[0]['tls'] is None and sites[0]['static'] == []
    assert result['listen_ports'] == [8080]
    assert result['listen_files'] == [{'port': 8080, 'file': 'modwsgi-listen-8080.conf', 'define': 'MODWSGI_STAGED_LISTEN_8080'}]
    assert result['wanted_files'] == ['modwsgi-Another.example.com-8080.conf', 'modwsgi-hello.example.com-80.conf',
                                      'modwsgi-listen-8080.conf']
    assert result['owners'] == {
        'modwsgi-Another.example.com-8080.conf': ['other'],
        'modwsgi-hello.example.com-80.conf': ['root', 'api', 'v1'],
        'modwsgi-listen-8080.conf': ['other'],
    }


def test_sites_mounts_of_one_length_go_in_reverse_order(source):
    merged = merge([app(source, name='a', mount='/a'), app(source, name='b', mount='/b'), app(source, name='c', mount='/cc')])
    site = app_model.sites(merged, {'a': '', 'b': '', 'c': ''}, '/logs', [80])['sites'][0]
    assert [a['mount'] for a in site['apps']] == ['/cc', '/b', '/a']


def test_sites_group_server_names_whatever_their_case(source):
    merged = merge([app(source, name='a', server_name='Hello.Example.com'), app(source, name='b', mount='/b')])
    result = app_model.sites(merged, {'a': 'A', 'b': 'B'}, '/logs', [80])
    assert [(s['key'], [a['name'] for a in s['apps']]) for s in result['sites']] == [('Hello.Example.com-80', ['b', 'a'])]


def test_listen_ports_leave_out_the_default_ones(source):
    tls = {'cert': '/c.pem', 'key': '/k.pem'}
    merged = merge([app(source, tls=tls), app(source, name='b', port=8080, tls=dict(tls, port=8443)),
                    app(source, name='c', port=81), app(source, name='d', port=81, mount='/d')])
    lines = dict.fromkeys('hello b c d'.split(), 'x')
    assert app_model.sites(merged, lines, '/logs', [80, 443])['listen_ports'] == [81, 8080, 8443]
    assert app_model.sites(merged, lines, '/logs', [80])['listen_ports'] == [81, 443, 8080, 8443]
    assert app_model.sites(merged, lines, '/logs', [])['listen_ports'] == [80, 81, 443, 8080, 8443]


def test_no_listen_file_when_no_extra_port(source):
    result = app_model.sites(merge([app(source)]), {'hello': 'x'}, '/logs', [80, 443])
    assert result['listen_ports'] == []
    assert result['wanted_files'] == ['modwsgi-hello.example.com-80.conf']
    assert result['listen_files'] == []
    assert result['owners'] == {'modwsgi-hello.example.com-80.conf': ['hello']}
    assert app_model.sites([], {}, '/logs', [80]) == {'sites': [], 'listen_ports': [], 'listen_files': [], 'wanted_files': [],
                                                      'owners': {}}


def test_sites_default_site_file_name_comes_first(source):
    merged = merge([app(source, name='a', mount='/a'), app(source, name='b', default_site=True),
                    app(source, name='c', server_name='other.example.com')])
    result = app_model.sites(merged, {'a': 'A', 'b': 'B', 'c': 'C'}, '/logs', [80])
    hello, other = result['sites'][0], result['sites'][1]
    # One app that sets it makes the whole site the default one.
    assert (hello['key'], hello['default_site'], hello['file']) == (
        'hello.example.com-80', True, '00-modwsgi-hello.example.com-80.conf')
    assert (other['key'], other['default_site'], other['file']) == (
        'other.example.com-80', False, 'modwsgi-other.example.com-80.conf')
    # The define and the logs keep the site's key.
    assert hello['define'] == 'MODWSGI_STAGED_HELLO_EXAMPLE_COM_80'
    assert hello['log_prefix'] == '/logs/modwsgi-hello.example.com-80'
    assert result['wanted_files'] == ['00-modwsgi-hello.example.com-80.conf', 'modwsgi-other.example.com-80.conf']
    assert result['owners'] == {'00-modwsgi-hello.example.com-80.conf': ['a', 'b'], 'modwsgi-other.example.com-80.conf': ['c']}
    # Apache reads the site files in name order: before the distribution's default site and the other sites.
    assert sorted(['000-default.conf', 'default.conf', 'modwsgi-a.example.com-80.conf', hello['file']])[0] == hello['file']


def test_sites_one_listen_file_per_extra_port_with_its_apps(source):
    tls = {'cert': '/c.pem', 'key': '/k.pem'}
    merged = merge([app(source, tls=tls), app(source, name='b', port=8080, tls=dict(tls, port=8443)),
                    app(source, name='c', port=8080, server_name='c.example.com'), app(source, name='d', port=81),
                    app(source, name='gone', port=82, state='absent')])
    result = app_model.sites(merged, dict.fromkeys('hello b c d'.split(), 'x'), '/logs', [80])
    assert result['listen_ports'] == [81, 443, 8080, 8443]
    assert result['listen_files'] == [
        {'port': port, 'file': 'modwsgi-listen-%d.conf' % port, 'define': 'MODWSGI_STAGED_LISTEN_%d' % port}
        for port in (81, 443, 8080, 8443)]
    assert result['wanted_files'][-4:] == ['modwsgi-listen-81.conf', 'modwsgi-listen-443.conf', 'modwsgi-listen-8080.conf',
                                           'modwsgi-listen-8443.conf']
    owners = result['owners']
    assert (owners['modwsgi-listen-81.conf'], owners['modwsgi-listen-443.conf'], owners['modwsgi-listen-8080.conf'],
            owners['modwsgi-listen-8443.conf']) == (['d'], ['hello'], ['b', 'c'], ['b'])
    assert sorted(owners) == sorted(result['wanted_files'])


def test_sites_need_a_line_for_each_daemon_app(source):
    with pytest.raises(KeyError, match='hello'):
        app_model.sites(merge([app(source)]), {}, '/logs', [80])


# ---------------------------------------------------------------------------
# Releases and virtualenvs
# ---------------------------------------------------------------------------

def test_release_id(source):
    merged = merge([app(source)])[0]
    rid = app_model.release_id(merged, 'dir:abc')
    assert re.match('^[0-9a-f]{12}$', rid)
    assert app_model.release_id(copy.deepcopy(merged), 'dir:abc') == rid
    assert app_model.release_id(merged, 'dir:abd') != rid
    for key, value in [('requirements', ['x']), ('python', '/p'), ('entry_point', 'a:b'), ('pre_switch', ['x'])]:
        assert app_model.release_id(dict(merged, **{key: value}), 'dir:abc') != rid
    assert app_model.release_id(dict(merged, source=dict(merged['source'], subdir='x')), 'dir:abc') != rid
    # Keys that do not change what is built keep the id.
    assert app_model.release_id(dict(merged, threads=50, env={'A': '1'}), 'dir:abc') == rid


def test_release_id_is_the_sha256_of_the_json():
    import hashlib
    import json
    app_ = {'source': {'subdir': ''}, 'requirements': 'requirements.txt', 'python': '/usr/bin/python3',
            'entry_point': 'hello:app', 'pre_switch': []}
    text = json.dumps({'content': 'dir:abc', 'subdir': '', 'requirements': 'requirements.txt', 'python': '/usr/bin/python3',
                       'entry_point': 'hello:app', 'pre_switch': []})
    assert app_model.release_id(app_, 'dir:abc') == hashlib.sha256(text.encode()).hexdigest()[:12]


def test_release_id_of_apps_without_setup_or_shared_is_what_0_1_0_named_it(source):
    import hashlib
    import json
    merged = merge([app(source, files=[{'path': 'a.ini', 'content': 'x'}], default_site=True)])[0]
    assert (merged['setup'], merged['shared']) == ([], [])
    old = {'content': 'dir:abc', 'subdir': '', 'requirements': 'requirements.txt', 'python': '/usr/bin/python3',
           'entry_point': 'hello:app', 'pre_switch': []}
    rid = hashlib.sha256(json.dumps(old).encode()).hexdigest()[:12]
    assert app_model.release_id(merged, 'dir:abc') == rid
    # Keys missing (an app merged before 0.2.0) or empty: the same id; files and default_site never count.
    unmerged = dict((key, value) for key, value in merged.items() if key not in ('setup', 'shared'))
    assert app_model.release_id(unmerged, 'dir:abc') == rid
    assert app_model.release_id(dict(merged, setup=None, shared=None, files=[], default_site=False), 'dir:abc') == rid
    # setup and shared, when set, join the digest after the others.
    for extra in ({'setup': ['flask db upgrade']}, {'shared': ['instance']},
                  {'setup': ['flask db upgrade'], 'shared': ['instance']}):
        assert app_model.release_id(dict(merged, **extra), 'dir:abc') == (
            hashlib.sha256(json.dumps(dict(old, **extra)).encode()).hexdigest()[:12])
    assert app_model.release_id(dict(merged, setup=['a']), 'dir:abc') != app_model.release_id(dict(merged, setup=['b']), 'dir:abc')


def test_venv_fingerprint(source):
    merged = merge([app(source)])[0]
    fp = app_model.venv_fingerprint(merged, 'flask\n', '3.11', '', 'dir:abc')
    assert re.match('^[0-9a-f]{12}$', fp)
    # A code-only change keeps the venv.
    assert app_model.venv_fingerprint(merged, 'flask\n', '3.11', '', 'dir:xyz') == fp
    assert app_model.venv_fingerprint(merged, 'flask>=3\n', '3.11', '', 'dir:abc') != fp
    assert app_model.venv_fingerprint(merged, 'flask\n', '3.12', '', 'dir:abc') != fp
    assert app_model.venv_fingerprint(merged, 'flask\n', '3.11', '--no-cache-dir', 'dir:abc') != fp
    assert app_model.venv_fingerprint(dict(merged, python='/p'), 'flask\n', '3.11', '', 'dir:abc') != fp
    # Requirements that point into the source make the venv follow the source.
    local = app_model.venv_fingerprint(merged, '-r base.txt\n', '3.11', '', 'dir:abc')
    assert app_model.venv_fingerprint(merged, '-r base.txt\n', '3.11', '', 'dir:xyz') != local


def test_venv_fingerprint_of_a_list_and_of_pypi(source):
    listed = merge([app(source, requirements=['flask'])])[0]
    assert (app_model.venv_fingerprint(listed, 'ignored\n', '3.11', '', 'dir:a')
            == app_model.venv_fingerprint(listed, None, '3.11', '', 'dir:a'))
    pypi = merge([app(source, source={'type': 'pypi', 'spec': 'Werkzeug>=3'})])[0]
    fp = app_model.venv_fingerprint(pypi, None, '3.11', '', 'pypi:Werkzeug>=3')
    assert app_model.venv_fingerprint(dict(pypi, source=dict(pypi['source'], spec='Werkzeug>=4')), None, '3.11', '',
                                      'pypi:Werkzeug>=3') != fp
    optional = merge([app(source)])[0]
    assert app_model.requirement_lines(optional, None) == []
    assert app_model.requirement_lines(pypi, None) == ['Werkzeug>=3']
    assert app_model.requirement_lines(listed, None) == ['flask']
    assert app_model.requirement_lines(optional, 'a\nb # c\n') == ['a', 'b # c']


@pytest.mark.parametrize('lines, local', [
    ([], False),
    (['flask', 'werkzeug>=3,<4', 'requests[socks]==2.31 ; python_version >= "3.8"'], False),
    (['flask  # pinned elsewhere: ./constraints.txt'], False),
    (['# -r other.txt'], False),
    (['https://example.com/pkg-1.0.tar.gz'], False),
    (['pkg @ https://example.com/pkg-1.0.zip'], False),
    (['git+https://github.com/org/repo.git#egg=repo'], False),
    (['--hash=sha256:abcdef', '--index-url https://pypi.example.com/simple'], False),
    (['-r base.txt'], True),
    (['-c constraints.txt'], True),
    (['-e .'], True),
    (['-f wheels'], True),
    (['--requirement=base.txt'], True),
    (['--constraint base.txt'], True),
    (['--editable ./lib'], True),
    (['--find-links=wheels/'], True),
    (['file:///srv/pkg'], True),
    (['pkg @ file:pkg'], True),
    (['./local-pkg'], True),
    (['../sibling'], True),
    (['~/pkgs/x'], True),
    (['lib/pkg'], True),
    (['pkg-1.0-py3-none-any.whl'], True),
    (['pkg-1.0.tar.gz'], True),
    (['pkg-1.0.tar.bz2'], True),
    (['pkg-1.0.tgz'], True),
    (['flask', '  ./x  # local'], True),
], ids=lambda value: repr(value) if isinstance(value, list) else None)
def test_requirements_are_local(lines, local):
    assert app_model.requirements_are_local(lines) is local


# ---------------------------------------------------------------------------
# Pruning
# ---------------------------------------------------------------------------

R = '/srv/modwsgi/hello/releases/'
V = '/srv/modwsgi/hello/venvs/'


def hello(keep_releases=3, root=ROOT):
    """The merged app hello (in /srv/modwsgi/hello unless root says otherwise)."""
    return app_model.merge_apps([app(PLAYBOOK_DIR + '/app', keep_releases=keep_releases)], {}, root, SERVER, 2,
                                PLAYBOOK_DIR)[0]


def rel(mtime, venv=None, complete=True):
    """A release as modwsgi.deploy.host_state reports it: mtime is its marker's (or, half-built, its directory's)."""
    return {'complete': complete, 'verified': complete, 'mtime': mtime, 'venv': venv}


def host(releases, venvs=(), incomplete_venvs=()):
    """The app's entry of modwsgi.deploy.host_state, with these releases and (complete, incomplete) virtualenvs."""
    venv_state = dict((fingerprint, {'complete': True}) for fingerprint in venvs)
    venv_state.update((fingerprint, {'complete': False}) for fingerprint in incomplete_venvs)
    return {'exists': True, 'current': None, 'previous': None, 'current_release': None, 'previous_release': None,
            'current_verified': False, 'releases': releases, 'venvs': venv_state, 'user': None, 'group': None}


def run(release, venv_id='', current_link=_CURRENT, previous_link=''):
    """The app's entry of the role's state once activate/switch.yml ran (DROP: a link it did not set).

    By default current links to this run's release and previous to nothing, as after a first deploy.
    """
    state = {'release': release, 'release_dir': R + release, 'built': True, 'venv_id': venv_id, 'changed': True}
    for key, value in (('current_link', 'releases/' + release if current_link is _CURRENT else current_link),
                       ('previous_link', previous_link)):
        if value is not DROP:
            state[key] = value
    return state


def test_prune_plan_keeps_the_newest_complete_releases_by_marker_mtime():
    # The ids sort otherwise than the times of their markers.
    releases = {'aaaa': rel(500.0, 'v1'), 'bbbb': rel(100.0, 'v1'), 'cccc': rel(400.0, 'v2'), 'dddd': rel(200.0, 'v3'),
                'eeee': rel(300.0, 'v4')}
    state = host(releases, ['v1', 'v2', 'v3', 'v4'])
    before = copy.deepcopy(state)
    # Kept: aaaa, cccc and eeee, the 3 newest; bbbb's venv v1 stays for aaaa.
    assert app_model.prune_plan(hello(3), state, run('aaaa', previous_link='releases/cccc')) == {
        'releases': [R + 'bbbb', R + 'dddd'],
        'venvs': [V + 'v3'],
    }
    assert state == before
    # Two: aaaa and cccc.
    assert app_model.prune_plan(hello(2), state, run('aaaa', previous_link='releases/cccc')) == {
        'releases': [R + 'bbbb', R + 'dddd', R + 'eeee'],
        'venvs': [V + 'v3', V + 'v4'],
    }


def test_prune_plan_breaks_ties_of_marker_times_by_id():
    # Deterministically: of the releases marked at the same time, the greatest id is the newest.
    releases = {'aaaa': rel(100.0, 'v1'), 'cccc': rel(100.0, 'v3'), 'bbbb': rel(100.0, 'v2')}
    assert app_model.prune_plan(hello(2), host(releases, ['v1', 'v2', 'v3']), run('cccc')) == {
        'releases': [R + 'aaaa'],
        'venvs': [V + 'v1'],
    }


@pytest.mark.parametrize('current_link, previous_link', [
    ('releases/cccc', 'releases/aaaa'),
    (R + 'cccc', R + 'aaaa'),
    ('releases/cccc/', './releases/aaaa'),
    ('../hello/releases/cccc', 'releases/../releases/aaaa'),
], ids=['relative', 'absolute', 'trailing-slash-and-dot', 'dot-dot'])
def test_prune_plan_keeps_the_releases_current_and_previous_link_to(current_link, previous_link):
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v2'), 'cccc': rel(300.0, 'v3'), 'dddd': rel(400.0, 'v4'),
                'eeee': rel(500.0, 'v5')}
    state = run('eeee', current_link=current_link, previous_link=previous_link)
    # Kept: eeee (the newest, and this run's), cccc and aaaa (linked) however old.
    assert app_model.prune_plan(hello(1), host(releases, ['v1', 'v2', 'v3', 'v4', 'v5']), state) == {
        'releases': [R + 'bbbb', R + 'dddd'],
        'venvs': [V + 'v2', V + 'v4'],
    }


@pytest.mark.parametrize('current_link, previous_link', [(DROP, DROP), ('', ''), (None, None), ('releases/zzzz', DROP)],
                         ids=['absent', 'empty', 'null', 'dangling'])
def test_prune_plan_without_links(current_link, previous_link):
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v2'), 'cccc': rel(300.0, 'v3'), 'dddd': rel(400.0, 'v4')}
    state = run('bbbb', current_link=current_link, previous_link=previous_link)
    # Kept: dddd and cccc (the 2 newest) and bbbb (this run's).
    assert app_model.prune_plan(hello(2), host(releases, ['v1', 'v2', 'v3', 'v4']), state) == {
        'releases': [R + 'aaaa'],
        'venvs': [V + 'v1'],
    }


@pytest.mark.parametrize('link', [
    '/opt/elsewhere/releases/aaaa',
    '/srv/modwsgi/other/releases/aaaa',
    '../other/releases/aaaa',
    '/srv/modwsgi/hello/releases/../../other/releases/aaaa',
    'venvs/aaaa',
    'aaaa',
    'releases/aaaa/src',
    'releases',
    'releases/..',
    'releases/aaaa/..',
])
def test_prune_plan_ignores_links_outside_releases(link):
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v2')}
    state = run('bbbb', current_link=link, previous_link=link)
    assert app_model.prune_plan(hello(1), host(releases, ['v1', 'v2']), state) == {
        'releases': [R + 'aaaa'],
        'venvs': [V + 'v1'],
    }


def test_prune_plan_keeps_this_runs_release_built_after_the_state_was_read():
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v1'), 'cccc': rel(300.0, 'v2')}
    state = host(releases, ['v1', 'v2'])
    # new1 and its venv v9 were built after the read, so the state has neither: new1 is the newest
    # release of all and counts as one of keep_releases; v9 is not listed.
    expected = {'releases': [R + 'aaaa', R + 'bbbb'], 'venvs': [V + 'v1']}
    assert app_model.prune_plan(hello(2), state, run('new1', 'v9', previous_link='releases/cccc')) == expected
    assert app_model.prune_plan(hello(2), state, run('new1', 'v9', current_link=DROP, previous_link=DROP)) == expected
    assert app_model.prune_plan(hello(1), state, run('new1', 'v9', previous_link='releases/cccc')) == expected
    assert app_model.prune_plan(hello(1), state, run('new1', 'v9', previous_link='')) == {
        'releases': [R + 'aaaa', R + 'bbbb', R + 'cccc'],
        'venvs': [V + 'v1', V + 'v2'],
    }


def test_prune_plan_keeps_this_runs_release_that_the_state_has_as_incomplete():
    # A failed run left new1 half-built (linked to v3) and v4 without its marker; this run rebuilt
    # new1 from scratch with the venv v4, after the state was read.
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v2'), 'new1': rel(50.0, 'v3', complete=False)}
    state = host(releases, ['v1', 'v2', 'v3'], incomplete_venvs=['v4'])
    assert app_model.prune_plan(hello(1), state, run('new1', 'v4', previous_link='releases/bbbb')) == {
        'releases': [R + 'aaaa'],
        'venvs': [V + 'v1', V + 'v3'],
    }
    # Counted as the newest: with keep_releases 2, bbbb stays without a link too.
    assert app_model.prune_plan(hello(2), state, run('new1', 'v4')) == {
        'releases': [R + 'aaaa'],
        'venvs': [V + 'v1', V + 'v3'],
    }


def test_prune_plan_keeps_this_runs_release_when_it_is_an_older_one():
    # The content of aaaa deployed again: nothing built, its marker keeps its old time.
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v2'), 'cccc': rel(300.0, 'v3')}
    state = host(releases, ['v1', 'v2', 'v3'])
    assert app_model.prune_plan(hello(1), state, run('aaaa', previous_link='releases/cccc')) == {
        'releases': [R + 'bbbb'],
        'venvs': [V + 'v2'],
    }
    assert app_model.prune_plan(hello(1), state, run('aaaa', current_link=DROP, previous_link=DROP)) == {
        'releases': [R + 'bbbb'],
        'venvs': [V + 'v2'],
    }


def test_prune_plan_removes_half_built_releases():
    # half and bare have no marker: whatever their directory's time, they are neither kept nor counted.
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v2'), 'half': rel(900.0, 'v3', complete=False),
                'bare': rel(800.0, complete=False)}
    assert app_model.prune_plan(hello(2), host(releases, ['v1', 'v2', 'v3']), run('bbbb')) == {
        'releases': [R + 'bare', R + 'half'],
        'venvs': [V + 'v3'],
    }


def test_prune_plan_removes_the_venvs_no_kept_release_links_to():
    # shared: used by kept cccc (and removed bbbb); old: only by removed aaaa; orphan: by none;
    # broken: by none, and incomplete; missing: linked from removed eeee but not on the host;
    # dddd (this run's) has no venv link.
    releases = {'aaaa': rel(100.0, 'old'), 'bbbb': rel(200.0, 'shared'), 'cccc': rel(300.0, 'shared'), 'dddd': rel(400.0),
                'eeee': rel(50.0, 'missing')}
    state = host(releases, ['old', 'shared', 'orphan'], incomplete_venvs=['broken'])
    assert app_model.prune_plan(hello(2), state, run('dddd', previous_link='releases/cccc')) == {
        'releases': [R + 'aaaa', R + 'bbbb', R + 'eeee'],
        'venvs': [V + 'broken', V + 'old', V + 'orphan'],
    }


def test_prune_plan_keeps_the_venv_this_run_built_for_its_release():
    # v2 was left without its marker by a failed build and finished by this run for new1.
    releases = {'aaaa': rel(100.0, 'v1')}
    state = host(releases, ['v1'], incomplete_venvs=['v2'])
    assert app_model.prune_plan(hello(1), state, run('new1', 'v2')) == {
        'releases': [R + 'aaaa'],
        'venvs': [V + 'v1'],
    }
    # A code-only change: new1 links to aaaa's venv, which this run did not build.
    assert app_model.prune_plan(hello(1), host(releases, ['v1', 'v2']), run('new1', 'v1')) == {
        'releases': [R + 'aaaa'],
        'venvs': [V + 'v2'],
    }


def test_prune_plan_of_an_app_not_on_the_host_yet():
    absent = dict(host({}), exists=False)
    assert app_model.prune_plan(hello(), absent, run('new1', 'v1')) == {'releases': [], 'venvs': []}
    assert app_model.prune_plan(hello(), {}, run('new1')) == {'releases': [], 'venvs': []}
    assert app_model.prune_plan(hello(), {'releases': None, 'venvs': None}, {}) == {'releases': [], 'venvs': []}


def test_prune_plan_paths_follow_the_apps_root():
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v2')}
    state = run('bbbb', current_link='/opt/apps/hello/releases/bbbb', previous_link=DROP)
    assert app_model.prune_plan(hello(1, '/opt/apps'), host(releases, ['v1', 'v2']), state) == {
        'releases': ['/opt/apps/hello/releases/aaaa'],
        'venvs': ['/opt/apps/hello/venvs/v1'],
    }


def test_prune_plan_keeps_linked_releases_under_a_root_with_a_trailing_slash():
    releases = {'aaaa': rel(100.0, 'v1'), 'bbbb': rel(200.0, 'v2')}
    state = run('bbbb', previous_link='releases/aaaa')
    assert app_model.prune_plan(hello(1, ROOT + '/'), host(releases, ['v1', 'v2']), state) == {'releases': [], 'venvs': []}


# ---------------------------------------------------------------------------
# What to read from the host, and whether what is there is what is wanted
# ---------------------------------------------------------------------------

def directory(owner='root', group='root', mode='0755', kind='directory', target=None):
    """A path as modwsgi.deploy.host_state reports it."""
    return {'type': kind, 'owner': owner, 'group': group, 'mode': mode, 'checksum': None, 'target': target}


def _dirs(root, root_group, user, group):
    """The directories of hello under root, as directories() must list them."""
    wanted = [('', '0755'), ('/hello', '0755'), ('/hello/releases', '0755'), ('/hello/venvs', '0755'),
              ('/hello/wsgi', '0755'), ('/hello/cache', '0700')]
    return ([{'path': root + path, 'owner': 'root', 'group': root_group, 'mode': mode} for path, mode in wanted]
            + [{'path': root + '/hello/data', 'owner': user, 'group': group, 'mode': '0750'},
               # The files key's directory: the app's group reads it, root writes it.
               {'path': root + '/hello/config', 'owner': 'root', 'group': group, 'mode': '0750'},
               # The setup records: root's alone, so that the app cannot mark a command as run.
               {'path': root + '/hello/data/.modwsgi-setup', 'owner': 'root', 'group': root_group, 'mode': '0755'}])


@pytest.mark.parametrize('merged, root_group, expected', [
    (hello, 'wheel', _dirs('/srv/modwsgi', 'wheel', 'wsgi-hello', 'wsgi-hello')),
    (lambda: app_model.merge_apps([app(PLAYBOOK_DIR + '/app', user='web', group='www')], {}, '/opt/apps', SERVER, 2,
                                  PLAYBOOK_DIR)[0], 'root', _dirs('/opt/apps', 'root', 'web', 'www')),
], ids=['parents-first', 'data-to-the-apps-user'])
def test_directories_parents_first_with_the_data_directory_the_apps(merged, root_group, expected):
    assert app_model.directories(merged(), root_group) == expected


def good_paths(merged, root_group='root'):
    """What host_state reports when every directory of the app is as it must be."""
    return dict((wanted['path'], directory(wanted['owner'], wanted['group'], wanted['mode']))
                for wanted in app_model.directories(merged, root_group))


def test_directories_to_fix_none_when_every_one_is_right():
    merged = hello()
    paths = good_paths(merged)
    paths['/srv/modwsgi/hello/env.json'] = dict(directory(mode='0640', kind='file'), checksum='0' * 40)
    assert app_model.directories_to_fix(merged, 'root', paths) == []
    assert app_model.directories_to_fix(merged, 'wheel', good_paths(merged, 'wheel')) == []


def test_directories_to_fix_lists_the_missing_and_the_different_ones_parents_first():
    merged = hello()
    paths = good_paths(merged)
    paths['/srv/modwsgi/hello'] = directory(mode='0777', kind='link', target='/elsewhere')
    paths['/srv/modwsgi/hello/releases'] = None
    del paths['/srv/modwsgi/hello/venvs']
    paths['/srv/modwsgi/hello/wsgi'] = directory(mode='0775')
    paths['/srv/modwsgi/hello/cache'] = directory(group='wheel', mode='0700')
    paths['/srv/modwsgi/hello/data'] = directory(owner='root', group='wsgi-hello', mode='0750')
    wanted = app_model.directories(merged, 'root')
    assert app_model.directories_to_fix(merged, 'root', paths) == wanted[1:7]
    paths['/srv/modwsgi/hello/config'] = directory(group='root', mode='0750')
    del paths['/srv/modwsgi/hello/data/.modwsgi-setup']
    assert app_model.directories_to_fix(merged, 'root', paths) == wanted[1:]
    paths['/srv/modwsgi/hello'] = directory()
    paths['/srv/modwsgi/hello/wsgi'] = dict(directory(mode='0755', kind='file'), checksum='0' * 40)
    paths['/srv/modwsgi/hello/data'] = directory(owner='wsgi-hello', group='wsgi-hello', mode='0700')
    assert [item['path'] for item in app_model.directories_to_fix(merged, 'root', paths)] == [
        '/srv/modwsgi/hello/releases', '/srv/modwsgi/hello/venvs', '/srv/modwsgi/hello/wsgi', '/srv/modwsgi/hello/cache',
        '/srv/modwsgi/hello/data', '/srv/modwsgi/hello/config', '/srv/modwsgi/hello/data/.modwsgi-setup']


def test_directories_to_fix_with_another_root_group():
    merged = hello()
    # Everything but the data and config directories belongs to root's group, not wheel.
    wanted = app_model.directories(merged, 'wheel')
    assert app_model.directories_to_fix(merged, 'wheel', good_paths(merged)) == wanted[:6] + wanted[8:]
    assert [item['path'] for item in wanted[6:8]] == ['/srv/modwsgi/hello/data', '/srv/modwsgi/hello/config']


@pytest.mark.parametrize('paths', [None, {}], ids=['null', 'empty'])
def test_directories_to_fix_all_when_nothing_was_read(paths):
    merged = hello()
    assert app_model.directories_to_fix(merged, 'root', paths) == app_model.directories(merged, 'root')


FILE = {'type': 'file', 'owner': 'root', 'group': 'www-data', 'mode': '0640',
        'checksum': '8843d7f92416211de9ebb963ff4ce28125932878', 'target': None}
LINK = {'type': 'link', 'owner': 'root', 'group': 'root', 'mode': '0777', 'checksum': None,
        'target': '../sites-available/hello.conf'}


@pytest.mark.parametrize('entry, wanted, matches', [
    (FILE, {}, True),
    (FILE, {'kind': 'file', 'checksum': '8843d7f92416211de9ebb963ff4ce28125932878', 'owner': 'root', 'group': 'www-data',
            'mode': '0640'}, True),
    (FILE, {'kind': 'file', 'owner': None, 'mode': None}, True),
    (FILE, {'kind': 'directory'}, False),
    (FILE, {'checksum': '0' * 40}, False),
    (FILE, {'checksum': '8843D7F92416211DE9EBB963FF4CE28125932878'}, False),
    (FILE, {'owner': 'www-data'}, False),
    (FILE, {'group': 'root'}, False),
    (FILE, {'mode': '0644'}, False),
    (FILE, {'mode': '640'}, False),
    (FILE, {'mode': 0o640}, False),
    (FILE, {'target': '../sites-available/hello.conf'}, False),
    (LINK, {'kind': 'link', 'target': '../sites-available/hello.conf'}, True),
    (LINK, {'kind': 'link', 'target': '/etc/apache2/sites-available/hello.conf'}, False),
    (LINK, {'kind': 'file'}, False),
    (None, {}, False),
    (None, {'kind': 'file'}, False),
    ({}, {}, False),
], ids=['anything', 'everything', 'none-is-anything', 'kind', 'checksum', 'checksum-case', 'owner', 'group', 'mode',
        'mode-3-digits', 'mode-int', 'target-of-a-file', 'link', 'link-target-as-written', 'link-is-no-file',
        'missing', 'missing-file', 'empty'])
def test_path_matches(entry, wanted, matches):
    assert app_model.path_matches(entry, **wanted) is matches


def test_path_matches_positionally():
    assert app_model.path_matches(FILE, 'file', '8843d7f92416211de9ebb963ff4ce28125932878', 'root', 'www-data', '0640') is True
    assert app_model.path_matches(LINK, 'link', None, None, None, None, '../sites-available/hello.conf') is True
    assert app_model.path_matches(LINK, 'link', None, None, None, None, 'hello.conf') is False


DEBIAN = dict(SERVER, root_group='root', vhost_dir='/etc/apache2/sites-available', vhost_enabled_dir='/etc/apache2/sites-enabled')
REDHAT = dict(SERVER, root_group='wheel', vhost_dir='/etc/httpd/conf.d', vhost_enabled_dir='')
MARKERS = {'release_marker': '.modwsgi-release', 'venv_marker_prefix': '.modwsgi-venv-', 'verified_marker': '.modwsgi-verified'}


def app_paths(name):
    base = '/srv/modwsgi/' + name
    return [base, base + '/releases', base + '/venvs', base + '/wsgi', base + '/cache', base + '/data', base + '/config',
            base + '/data/.modwsgi-setup', base + '/wsgi/' + name + '.wsgi', base + '/env.json', base + '/secret_env.json']


DEBIAN_GLOBS = ['/etc/apache2/sites-available/*modwsgi-*.conf', '/etc/apache2/sites-enabled/*modwsgi-*.conf']


def test_host_query():
    files = [{'path': 'settings.ini', 'content': 'a=1'}, {'path': '/etc/hello.conf', 'content': 'b=2', 'secret': True}]
    merged = merge([app(PLAYBOOK_DIR + '/app', files=files),
                    app(PLAYBOOK_DIR + '/app', name='api', mount='/api', user='web', group='www'),
                    app(PLAYBOOK_DIR + '/app', name='gone', state='absent', files=[{'path': 'gone.ini', 'content': 'x'}])])
    wanted = ['modwsgi-hello.example.com-80.conf', 'modwsgi-listen-8080.conf']
    expected = {
        'apps': [dict({'name': 'hello', 'user': 'wsgi-hello', 'group': 'wsgi-hello'}, **MARKERS),
                 dict({'name': 'api', 'user': 'web', 'group': 'www'}, **MARKERS),
                 dict({'name': 'gone', 'user': 'wsgi-gone', 'group': 'wsgi-gone'}, **MARKERS)],
        # The root once; nothing of the absent app; each files entry; each wanted file in both directories.
        'paths': (['/srv/modwsgi'] + app_paths('hello') + ['/srv/modwsgi/hello/config/settings.ini', '/etc/hello.conf']
                  + app_paths('api')) + [
            '/etc/apache2/sites-available/modwsgi-hello.example.com-80.conf',
            '/etc/apache2/sites-enabled/modwsgi-hello.example.com-80.conf',
            '/etc/apache2/sites-available/modwsgi-listen-8080.conf',
            '/etc/apache2/sites-enabled/modwsgi-listen-8080.conf',
        ],
        # The setup records of each present app, then the configuration files of every run (default sites too).
        'globs': ['/srv/modwsgi/hello/data/.modwsgi-setup/*', '/srv/modwsgi/api/data/.modwsgi-setup/*'] + DEBIAN_GLOBS,
        # The list of the files each present app's files key wrote.
        'contents': ['/srv/modwsgi/hello/files.json', '/srv/modwsgi/api/files.json'],
    }
    assert app_model.host_query(merged, DEBIAN, wanted) == expected
    assert app_model.host_query(merged, DEBIAN, wanted, None) == expected
    # With the root: every app's markers and releases directory, this run's or another's.
    assert app_model.host_query(merged, DEBIAN, wanted, '/srv/modwsgi') == dict(
        expected, globs=expected['globs'] + ['/srv/modwsgi/*/.modwsgi-conf-*', '/srv/modwsgi/*/releases'])


def test_host_query_without_an_enabled_directory():
    assert app_model.host_query([hello()], REDHAT, ['modwsgi-hello.example.com-80.conf']) == {
        'apps': [dict({'name': 'hello', 'user': 'wsgi-hello', 'group': 'wsgi-hello'}, **MARKERS)],
        'paths': ['/srv/modwsgi'] + app_paths('hello') + ['/etc/httpd/conf.d/modwsgi-hello.example.com-80.conf'],
        'globs': ['/srv/modwsgi/hello/data/.modwsgi-setup/*', '/etc/httpd/conf.d/*modwsgi-*.conf'],
        'contents': ['/srv/modwsgi/hello/files.json'],
    }


def test_host_query_of_absent_apps_only_or_none():
    # The globs of the configuration directories stay: they find the virtual hosts of apps that are gone.
    gone = merge([app(PLAYBOOK_DIR + '/app', state='absent')])
    assert app_model.host_query(gone, DEBIAN, []) == {
        'apps': [dict({'name': 'hello', 'user': 'wsgi-hello', 'group': 'wsgi-hello'}, **MARKERS)],
        'paths': [],
        'globs': DEBIAN_GLOBS,
        'contents': [],
    }
    assert app_model.host_query([], REDHAT, []) == {'apps': [], 'paths': [], 'globs': ['/etc/httpd/conf.d/*modwsgi-*.conf'],
                                                    'contents': []}
    assert app_model.host_query([], REDHAT, [], '/opt/apps') == {
        'apps': [], 'paths': [], 'contents': [],
        'globs': ['/etc/httpd/conf.d/*modwsgi-*.conf', '/opt/apps/*/.modwsgi-conf-*', '/opt/apps/*/releases']}


def test_host_query_reads_each_path_once():
    merged = hello()
    other = app_model.merge_apps([app(PLAYBOOK_DIR + '/app', name='other')], {}, ROOT, SERVER, 2, PLAYBOOK_DIR)[0]
    query = app_model.host_query([merged, other], REDHAT, ['modwsgi-a.conf', 'modwsgi-a.conf'])
    assert query['paths'] == (['/srv/modwsgi'] + app_paths('hello') + app_paths('other')
                              + ['/etc/httpd/conf.d/modwsgi-a.conf'])


# ---------------------------------------------------------------------------
# A configuration file Apache refused
# ---------------------------------------------------------------------------

def test_rejected_config_names_each_refused_file_and_what_apache_said():
    result = {
        'failed': True,
        'results': [
            {'site': {'file': 'modwsgi-a.test-80.conf'}, 'changed': False},
            {'site': {'file': 'modwsgi-b.test-80.conf'}, 'failed': True, 'msg': 'failed to validate',
             'stderr': 'AH00526: Syntax error on line 3 of /tmp/x:\n  Invalid command \'NoSuchDirective\'\n'},
        ],
    }
    assert app_model.rejected_config_message(result) == (
        "modwsgi-b.test-80.conf failed Apache's configuration check and was not written; the live configuration "
        "and the serving releases are unchanged. Apache said: AH00526: Syntax error on line 3 of /tmp/x: Invalid "
        "command 'NoSuchDirective' -- check the extra_directives, tls and static settings of the apps on that "
        "host name.")


def test_rejected_config_of_a_listen_file_names_it_through_its_loop_var():
    result = {
        'failed': True,
        'msg': 'One or more items failed',
        'results': [
            {'listen': {'port': 8080, 'file': 'modwsgi-listen-8080.conf'}, 'changed': False},
            {'listen': {'port': 8443, 'file': 'modwsgi-listen-8443.conf'}, 'failed': True, 'msg': 'failed to validate',
             'stderr': 'AH00072: make_sock: could not bind to address [::]:8443\n'},
        ],
    }
    assert app_model.rejected_config_message(result) == (
        "modwsgi-listen-8443.conf failed Apache's configuration check and was not written; the live configuration and the "
        "serving releases are unchanged. Apache said: AH00072: make_sock: could not bind to address [::]:8443 -- check the "
        "extra_directives, tls and static settings of the apps on that host name.")


def test_rejected_config_prefers_the_site_then_the_listen_file_then_a_word():
    result = {'failed': True, 'results': [
        {'site': {'file': 'modwsgi-a.test-80.conf'}, 'listen': {'file': 'modwsgi-listen-81.conf'}, 'failed': True},
        {'site': None, 'listen': {'file': 'modwsgi-listen-81.conf'}, 'failed': True},
        {'listen': {}, 'failed': True},
        {'listen': None, 'failed': True}]}
    assert app_model.rejected_config_message(result).startswith(
        "modwsgi-a.test-80.conf, modwsgi-listen-81.conf, A Listen file, A Listen file failed Apache's configuration check")


def test_rejected_config_of_the_listen_file_falls_back_to_msg():
    result = {'failed': True, 'msg': 'failed to validate:  rc 1'}
    assert app_model.rejected_config_message(result).startswith(
        "A Listen file failed Apache's configuration check and was not written;")
    assert "Apache said: failed to validate: rc 1 --" in app_model.rejected_config_message(result)


def test_rejected_config_names_every_refused_file_in_order():
    result = {
        'failed': True,
        'msg': 'One or more items failed',
        'results': [
            {'site': {'file': 'modwsgi-a.test-80.conf'}, 'failed': True, 'msg': 'failed to validate', 'stderr': 'AH00526: A\n'},
            {'site': {'file': 'modwsgi-b.test-80.conf'}, 'skipped': True, 'false_condition': 'not __current'},
            {'site': {'file': 'modwsgi-c.test-443.conf'}, 'failed': True, 'msg': 'failed to validate', 'stderr': ''},
            {'site': {'file': 'modwsgi-d.test-80.conf'}, 'failed': False, 'changed': True},
        ],
    }
    assert app_model.rejected_config_message(result) == (
        "modwsgi-a.test-80.conf, modwsgi-c.test-443.conf failed Apache's configuration check and was not written; the "
        "live configuration and the serving releases are unchanged. Apache said: AH00526: A | failed to validate -- "
        "check the extra_directives, tls and static settings of the apps on that host name.")


def test_rejected_config_of_the_listen_file_prefers_what_apache_wrote():
    result = {'failed': True, 'msg': 'failed to validate', 'exit_status': 1, 'stdout': '',
              'stderr': "AH00526: Syntax error on line 1 of /tmp/x:\n\tListen requires 1 to 2 arguments\n"}
    assert app_model.rejected_config_message(result) == (
        "A Listen file failed Apache's configuration check and was not written; the live configuration and the "
        "serving releases are unchanged. Apache said: AH00526: Syntax error on line 1 of /tmp/x: Listen requires 1 to 2 "
        "arguments -- check the extra_directives, tls and static settings of the apps on that host name.")


def test_rejected_config_without_a_word_from_apache():
    assert app_model.rejected_config_message({'failed': True}) == (
        "A Listen file failed Apache's configuration check and was not written; the live configuration and the "
        "serving releases are unchanged. Apache said:  -- check the extra_directives, tls and static settings of the "
        "apps on that host name.")


# ---------------------------------------------------------------------------
# Apps of other runs, and the configuration files no app needs any more (config_plan)
# ---------------------------------------------------------------------------

AVAILABLE = '/etc/apache2/sites-available/'
ENABLED = '/etc/apache2/sites-enabled/'
MARKERS_GLOB = ROOT + '/*/.modwsgi-conf-*'
RELEASES_GLOB = ROOT + '/*/releases'


def deployed(*apps):
    """Merged apps on hello.example.com:80 (each its own mount), from (name, changes) or names."""
    entries = []
    for index, item in enumerate(apps):
        name, changes = item if isinstance(item, tuple) else (item, {})
        keys = dict({'name': name, 'mount': '/' if index == 0 else '/' + name}, **changes)
        entries.append(app(PLAYBOOK_DIR + '/app', **keys))
    return merge(entries)


def site_model(merged, default_listen=(80, 443)):
    present = [item for item in merged if item['state'] == 'present']
    return app_model.sites(present, dict((item['name'], 'x') for item in present), '/logs', list(default_listen))


def globbed(releases=(), markers=None, available=(), enabled=(), server=None):
    """host_state's globs: the apps with a releases directory, their markers {app: [files]} and the files found."""
    server = server or DEBIAN
    marker_paths = [ROOT + '/' + name + '/.modwsgi-conf-' + file for name, files in (markers or {}).items() for file in files]
    out = {RELEASES_GLOB: [ROOT + '/' + name + '/releases' for name in sorted(releases)],
           MARKERS_GLOB: sorted(marker_paths),
           server['vhost_dir'] + '/*modwsgi-*.conf': sorted(server['vhost_dir'] + '/' + name for name in available)}
    if server['vhost_enabled_dir']:
        enabled_dir = server['vhost_enabled_dir']
        out[enabled_dir + '/*modwsgi-*.conf'] = sorted(enabled_dir + '/' + name for name in enabled)
    return out


def plan(merged, globs, purge=False, server=None, model=None):
    return app_model.config_plan(merged, site_model(merged) if model is None else model, server or DEBIAN, ROOT, globs, purge)


def marker(name, file):
    return ROOT + '/' + name + '/.modwsgi-conf-' + file


HELLO_SITE = 'modwsgi-hello.example.com-80.conf'
BLOG_SITE = 'modwsgi-blog.example.com-80.conf'


def test_deployed_apps_and_config_owners_from_the_globs():
    globs = globbed(['hello', 'blog'], {'hello': [HELLO_SITE, 'modwsgi-listen-81.conf'], 'blog': [HELLO_SITE]})
    assert app_model.deployed_apps(ROOT, globs) == ['blog', 'hello']
    assert app_model.config_owners(ROOT, globs) == {HELLO_SITE: ['blog', 'hello'], 'modwsgi-listen-81.conf': ['hello']}
    for nothing in (None, {}, {RELEASES_GLOB: None, MARKERS_GLOB: None}):
        assert app_model.deployed_apps(ROOT, nothing) == []
        assert app_model.config_owners(ROOT, nothing) == {}
    # Another root's globs are not this one's.
    assert app_model.deployed_apps('/opt/apps', globs) == []


def test_config_plan_of_a_first_run():
    merged = deployed('hello')
    assert plan(merged, globbed()) == {
        'unlisted': [], 'purge': [], 'remove': [], 'conflicts': [], 'write_markers': [marker('hello', HELLO_SITE)],
        'remove_markers': [], 'unowned': []}
    assert plan(merged, {}) == plan(merged, None) == plan(merged, globbed())


def test_config_plan_leaves_other_runs_apps_and_their_files_alone():
    merged = deployed('hello')
    globs = globbed(['hello', 'blog', 'shop'], {'hello': [HELLO_SITE], 'blog': [BLOG_SITE, 'modwsgi-listen-8080.conf'],
                                                'shop': ['modwsgi-listen-8080.conf']},
                    available=[HELLO_SITE, BLOG_SITE, 'modwsgi-listen-8080.conf'], enabled=[HELLO_SITE, BLOG_SITE])
    assert plan(merged, globs) == {
        'unlisted': ['blog', 'shop'], 'purge': [], 'remove': [], 'conflicts': [], 'write_markers': [], 'remove_markers': [],
        'unowned': []}


def test_config_plan_removes_a_file_once_every_owner_is_listed_or_purged():
    old, shared = 'modwsgi-old.example.com-80.conf', 'modwsgi-shared.example.com-80.conf'
    globs = globbed(['hello', 'blog'], {'hello': [HELLO_SITE, old, shared], 'blog': [shared]},
                    available=[HELLO_SITE, old, shared], enabled=[HELLO_SITE, old, shared])
    merged = deployed('hello')
    # hello no longer uses old (its own, removed in both directories) nor shared, which blog still uses.
    result = plan(merged, globs)
    assert result['remove'] == [AVAILABLE + old, ENABLED + old]
    assert result['remove_markers'] == [marker('hello', old), marker('hello', shared)]
    # blog listed (absent here), or purged: nothing keeps shared.
    listed = plan(deployed('hello', ('blog', {'state': 'absent'})), globs)
    assert listed['remove'] == [AVAILABLE + old, AVAILABLE + shared, ENABLED + old, ENABLED + shared]
    assert listed['unlisted'] == [] and listed['purge'] == []
    purged = plan(merged, globs, purge=True)
    assert purged['remove'] == listed['remove']
    assert purged['purge'] == purged['unlisted'] == ['blog']


def test_config_plan_leaves_unowned_files_alone_and_reports_them():
    # Written by hand, or by 0.1.0 (before the markers): no run knows whose they are.
    globs = globbed(['hello'], {'hello': [HELLO_SITE]}, available=[HELLO_SITE, 'modwsgi-manual.conf', '00-modwsgi-x-80.conf'],
                    enabled=['modwsgi-manual.conf'])
    result = plan(deployed('hello'), globs)
    assert result['remove'] == []
    assert result['unowned'] == [AVAILABLE + '00-modwsgi-x-80.conf', AVAILABLE + 'modwsgi-manual.conf',
                                 ENABLED + 'modwsgi-manual.conf']
    # A file this run wants is neither, marked or not.
    assert plan(deployed('hello'), globbed(['hello'], available=[HELLO_SITE]))['unowned'] == []
    assert plan(deployed('hello'), globbed(['hello'], available=[HELLO_SITE]), purge=True)['remove'] == []


@pytest.mark.parametrize('port, removed', [(8080, True), (80, False)], ids=['per-port-file-wanted', 'no-extra-port'])
def test_config_plan_removes_the_legacy_listen_file_only_for_the_per_port_files(port, removed):
    merged = deployed(('hello', {'port': port}))
    model = site_model(merged)
    assert bool(model['listen_files']) is removed
    globs = globbed(['hello'], available=['modwsgi-listen.conf'], enabled=['modwsgi-listen.conf'])
    result = plan(merged, globs)
    assert result['remove'] == ([AVAILABLE + 'modwsgi-listen.conf', ENABLED + 'modwsgi-listen.conf'] if removed else [])
    # Left alone otherwise, and not reported: apps of other runs may still need its ports.
    assert result['unowned'] == []
    # Only a wanted per-port file counts.
    assert plan(merged, globs, model=dict(model, wanted_files=model['wanted_files'][:1]))['remove'] == []


def test_config_plan_conflict_when_rewriting_a_site_file_that_serves_an_unlisted_app():
    globs = globbed(['hello', 'blog', 'shop'], {'hello': [HELLO_SITE], 'blog': [HELLO_SITE], 'shop': [HELLO_SITE]},
                    available=[HELLO_SITE])
    merged = deployed('hello', 'api')
    assert plan(merged, globs)['conflicts'] == [
        'modwsgi_apps: api, hello would replace modwsgi-hello.example.com-80.conf, which also serves blog, shop, deployed by '
        'another run and not listed here. List them in this run too (with the same keys), or give these apps their own '
        'server_name or port.']
    assert plan(merged, globbed(['hello', 'blog'], {'blog': [HELLO_SITE]}))['conflicts'] == [
        'modwsgi_apps: api, hello would replace modwsgi-hello.example.com-80.conf, which also serves blog, deployed by '
        'another run and not listed here. List it in this run too (with the same keys), or give these apps their own '
        'server_name or port.']
    # Listed (present or absent) or purged: no conflict.
    assert plan(deployed('hello', 'blog', 'shop'), globs)['conflicts'] == []
    assert plan(deployed('hello', ('blog', {'state': 'absent'}), ('shop', {'state': 'absent'})), globs)['conflicts'] == []
    assert plan(merged, globs, purge=True)['conflicts'] == []
    # Another site file of blog is no conflict.
    assert plan(merged, globbed(['blog'], {'blog': [BLOG_SITE]}))['conflicts'] == []


def test_config_plan_purge_lists_the_unlisted_apps():
    globs = globbed(['hello', 'blog', 'shop', 'gone'], {'blog': [BLOG_SITE]}, available=[BLOG_SITE])
    merged = deployed('hello', ('gone', {'state': 'absent'}))
    assert plan(merged, globs)['unlisted'] == ['blog', 'shop']
    assert plan(merged, globs)['purge'] == []
    result = plan(merged, globs, purge=True)
    assert (result['unlisted'], result['purge'], result['remove']) == (['blog', 'shop'], ['blog', 'shop'], [AVAILABLE + BLOG_SITE])


def test_config_plan_markers_to_write_and_to_remove():
    merged = deployed('hello', ('api', {'port': 8080}), ('gone', {'state': 'absent'}))
    api_site, listen = 'modwsgi-hello.example.com-8080.conf', 'modwsgi-listen-8080.conf'
    globs = globbed(['hello', 'api', 'gone', 'blog'],
                    {'hello': [HELLO_SITE, 'modwsgi-stale.conf'], 'api': [listen, HELLO_SITE],
                     'gone': [HELLO_SITE], 'blog': ['modwsgi-stale.conf']})
    result = plan(merged, globs)
    # Each app of each file it uses, once; those already there are kept.
    assert result['write_markers'] == [marker('api', api_site)]
    # Only the present apps' stale markers: an absent app's go with its directory, another run's are its own.
    assert result['remove_markers'] == [marker('api', HELLO_SITE), marker('hello', 'modwsgi-stale.conf')]


def test_config_plan_absent_apps_without_markers_still_lose_their_site_file():
    # gone was deployed by 0.1.0 (no markers), its site file named after its keys, maybe as a default site.
    gone_site = 'modwsgi-gone.example.com-80.conf'
    globs = globbed(['hello', 'gone'], available=[gone_site, '00-' + gone_site, 'modwsgi-other.conf'], enabled=[gone_site])
    merged = deployed('hello', ('gone', {'state': 'absent', 'server_name': 'gone.example.com'}),
                      ('nameless', {'state': 'absent', 'server_name': DROP}))
    result = plan(merged, globs)
    assert result['remove'] == [AVAILABLE + '00-' + gone_site, AVAILABLE + gone_site, ENABLED + gone_site]
    assert result['unowned'] == [AVAILABLE + 'modwsgi-other.conf']
    assert 'server_name' not in merged[2]
    # Unless an app of another run uses it too.
    shared = plan(merged, dict(globs, **{MARKERS_GLOB: [marker('blog', gone_site)], RELEASES_GLOB: [ROOT + '/blog/releases']}))
    assert shared['remove'] == [AVAILABLE + '00-' + gone_site]


def test_config_plan_present_apps_own_the_unmarked_site_file_their_keys_name():
    # hello was deployed by 0.1.0 (no markers) and now becomes the default site: its old file, which
    # defines the same daemon process group, goes; a file of another name stays unowned.
    globs = globbed(['hello'], available=[HELLO_SITE, 'modwsgi-other.conf'], enabled=[HELLO_SITE])
    merged = deployed(('hello', {'default_site': True}))
    result = plan(merged, globs)
    assert result['remove'] == [AVAILABLE + HELLO_SITE, ENABLED + HELLO_SITE]
    assert result['unowned'] == [AVAILABLE + 'modwsgi-other.conf']
    assert result['write_markers'] == [marker('hello', '00-' + HELLO_SITE)]


def test_config_plan_without_an_enabled_directory():
    globs = globbed(['hello'], {'hello': ['modwsgi-old.conf']}, available=['modwsgi-old.conf', HELLO_SITE], server=REDHAT)
    assert plan(deployed('hello'), globs, server=REDHAT)['remove'] == ['/etc/httpd/conf.d/modwsgi-old.conf']


# ---------------------------------------------------------------------------
# The app's directories in its environment, files and commands (runtime, expand)
# ---------------------------------------------------------------------------

DIRECTORIES = {
    'MODWSGI_APP': 'hello',
    'MODWSGI_APP_ROOT': '/srv/modwsgi/hello',
    'MODWSGI_APP_DATA': '/srv/modwsgi/hello/data',
    'MODWSGI_APP_CONFIG': '/srv/modwsgi/hello/config',
    'MODWSGI_APP_RELEASE': '/srv/modwsgi/hello/current/src',
}


def test_directory_values_of_the_serving_release_or_the_one_given():
    assert app_model.DIRECTORY_NAMES == tuple(DIRECTORIES)
    assert app_model.directory_values(hello()) == DIRECTORIES
    assert app_model.directory_values(hello(), None) == DIRECTORIES
    assert app_model.directory_values(hello(), '/srv/modwsgi/hello/releases/abc/src') == dict(
        DIRECTORIES, MODWSGI_APP_RELEASE='/srv/modwsgi/hello/releases/abc/src')
    pypi = merge([app(PLAYBOOK_DIR, source={'type': 'pypi', 'spec': 'x'})])[0]
    assert app_model.directory_values(pypi)['MODWSGI_APP_RELEASE'] == '/srv/modwsgi/hello/current'


@pytest.mark.parametrize('value, expected', [
    ('${MODWSGI_APP}', 'hello'),
    ('${MODWSGI_APP_ROOT}/x ${MODWSGI_APP_DATA}/y ${MODWSGI_APP_CONFIG}/z ${MODWSGI_APP_RELEASE}',
     '/srv/modwsgi/hello/x /srv/modwsgi/hello/data/y /srv/modwsgi/hello/config/z /srv/modwsgi/hello/current/src'),
    ('${MODWSGI_APP_DATA}${MODWSGI_APP_DATA}', '/srv/modwsgi/hello/data/srv/modwsgi/hello/data'),
    ('$MODWSGI_APP_DATA', '$MODWSGI_APP_DATA'),
    ('${MODWSGI_APP_OTHER} ${MODWSGI_APPS}', '${MODWSGI_APP_OTHER} ${MODWSGI_APPS}'),
    ('${modwsgi_app_data} ${ MODWSGI_APP_DATA }', '${modwsgi_app_data} ${ MODWSGI_APP_DATA }'),
    ('${HOME} $PATH $$ ${X:-y} \\${MODWSGI_APP}', '${HOME} $PATH $$ ${X:-y} \\hello'),
    ('{{ x }} %(here)s', '{{ x }} %(here)s'),
    ('', ''),
], ids=['name', 'the-five', 'twice', 'no-braces', 'other-names', 'case-and-spaces', 'other-dollars', 'other-syntax', 'empty'])
def test_expand_only_the_five_names(value, expected):
    assert app_model.expand(value, DIRECTORIES) == expected


def test_expand_inside_lists_and_dicts_and_nothing_else():
    value = {'${MODWSGI_APP}': ['${MODWSGI_APP_DATA}', 5, None, True, {'k': '${MODWSGI_APP}'}], 'n': 1.5}
    assert app_model.expand(value, DIRECTORIES) == {'${MODWSGI_APP}': ['/srv/modwsgi/hello/data', 5, None, True, {'k': 'hello'}],
                                                    'n': 1.5}
    assert value['${MODWSGI_APP}'][0] == '${MODWSGI_APP_DATA}'
    for other in (5, None, False, 2.5):
        assert app_model.expand(other, DIRECTORIES) is other
    # A name missing from the values is left as written.
    assert app_model.expand('${MODWSGI_APP_DATA}', {}) == '${MODWSGI_APP_DATA}'


def test_runtime_env_is_the_apps_expanded_plus_the_directories():
    merged = merge([app(PLAYBOOK_DIR, env={'DB': 'sqlite:///${MODWSGI_APP_DATA}/db.sqlite', 'HOME_DIR': '${HOME}',
                                           'MODWSGI_APP_DATA': '/elsewhere', 'PORT': 8000},
                        secret_env={'TOKEN': 's3cret', 'DB': '${MODWSGI_APP_DATA}/secret'})])[0]
    result = app_model.runtime(merged)
    assert result['directories'] == DIRECTORIES
    # The directories win over env entries of the same name; no secret_env name or value is in the result.
    assert result['env'] == dict(DIRECTORIES, DB='sqlite:////srv/modwsgi/hello/data/db.sqlite', HOME_DIR='${HOME}', PORT=8000)
    assert 's3cret' not in repr(result) and 'TOKEN' not in repr(result) and '/secret' not in repr(result)
    assert merged['env']['DB'] == 'sqlite:///${MODWSGI_APP_DATA}/db.sqlite'
    assert app_model.runtime(dict(merged, env=None))['env'] == DIRECTORIES


def test_runtime_release_defaults_to_the_serving_one():
    merged = merge([app(PLAYBOOK_DIR, env={'SRC': '${MODWSGI_APP_RELEASE}'}, pre_switch=['cd ${MODWSGI_APP_RELEASE}'],
                        setup=['ls ${MODWSGI_APP_RELEASE}'])])[0]
    serving = app_model.runtime(merged)
    assert serving['env']['SRC'] == serving['env']['MODWSGI_APP_RELEASE'] == '/srv/modwsgi/hello/current/src'
    assert serving['pre_switch'] == ['cd /srv/modwsgi/hello/current/src']
    building = app_model.runtime(merged, '/srv/modwsgi/hello/releases/abc/src')
    assert building['env']['SRC'] == building['env']['MODWSGI_APP_RELEASE'] == '/srv/modwsgi/hello/releases/abc/src'
    assert building['pre_switch'] == ['cd /srv/modwsgi/hello/releases/abc/src']
    assert building['setup'][0]['command'] == 'ls /srv/modwsgi/hello/releases/abc/src'
    assert app_model.runtime(merged, '')['directories'] == DIRECTORIES


def test_runtime_setup_ids_come_from_the_text_as_written():
    import hashlib
    written = ['flask db upgrade', 'cp -n ${MODWSGI_APP_RELEASE}/seed.db ${MODWSGI_APP_DATA}/db.sqlite', 'flask db upgrade ']
    merged = merge([app(PLAYBOOK_DIR, setup=written)])[0]
    result = app_model.runtime(merged)
    assert result['setup'] == [
        {'id': hashlib.sha1(command.encode('utf-8')).hexdigest(), 'command': expanded, 'written': command}
        for command, expanded in zip(written, ['flask db upgrade',
                                               'cp -n /srv/modwsgi/hello/current/src/seed.db /srv/modwsgi/hello/data/db.sqlite',
                                               'flask db upgrade '])]
    assert [item['id'] for item in result['setup']] == [app_model.setup_id(command) for command in written]
    # The ids do not follow the release nor the app's directories: a command runs once per app.
    assert [item['id'] for item in app_model.runtime(merged, '/other/src')['setup']] == [item['id'] for item in result['setup']]
    moved = app_model.merge_apps([app(PLAYBOOK_DIR, setup=written)], {}, '/opt/apps', SERVER, 2, PLAYBOOK_DIR)[0]
    assert [item['id'] for item in app_model.runtime(moved)['setup']] == [item['id'] for item in result['setup']]
    assert app_model.setup_id('caf\u00e9') == hashlib.sha1('caf\u00e9'.encode('utf-8')).hexdigest()


def test_runtime_setup_pending_are_those_without_a_record():
    merged = merge([app(PLAYBOOK_DIR, setup=['one', 'two', 'three'])])[0]
    one, two, three = app_model.runtime(merged)['setup']
    records = merged['_setup_records'] + '/'
    assert app_model.runtime(merged)['setup_pending'] == [one, two, three]
    assert app_model.runtime(merged, None, None)['setup_pending'] == [one, two, three]
    assert app_model.runtime(merged, None, [records + two['id']])['setup_pending'] == [one, three]
    assert app_model.runtime(merged, None, [records + one['id'], records + three['id'], records + 'f' * 40,
                                            records + two['id'][:-1]])['setup_pending'] == [two]
    # Any directory: the records are matched by name.
    assert app_model.runtime(merged, None, [one['id'], '/x/' + two['id'], records + three['id']])['setup_pending'] == []
    assert app_model.runtime(dict(merged, setup=[]))['setup'] == []


def test_runtime_pre_switch():
    merged = merge([app(PLAYBOOK_DIR, pre_switch=['python manage.py migrate', 'echo ${MODWSGI_APP} $HOME'])])[0]
    assert app_model.runtime(merged)['pre_switch'] == ['python manage.py migrate', 'echo hello $HOME']
    assert app_model.runtime(dict(merged, pre_switch=None))['pre_switch'] == []


# ---------------------------------------------------------------------------
# 0.3.0: files under data/ and in each release, shared files, static paths of a private release
# ---------------------------------------------------------------------------

DATA = '/srv/modwsgi/hello/data'


def test_files_paths_by_their_directory_name(source):
    merged = merge([app(source, files=[
        {'path': '${MODWSGI_APP_DATA}/instance/config.py', 'content': 'a'},
        {'path': '${MODWSGI_APP_CONFIG}/b.ini', 'content': 'b'},
        {'path': '${MODWSGI_APP_RELEASE}/mysite/settings/local.py', 'content': 'c', 'secret': True},
    ])])[0]
    places = [(item['path'], item['release'], item['rel']) for item in merged['_files']]
    assert places == [(DATA + '/instance/config.py', False, None), (CONFIG + '/b.ini', False, None),
                      (None, True, 'mysite/settings/local.py')]
    assert merged['_data_dirs'] == [DATA + '/instance']
    assert errors([app(source, files=merged['files'])]) == []


def test_data_dirs_cover_nested_files_and_shared_files_parents_first(source):
    merged = merge([app(source, files=[{'path': '${MODWSGI_APP_DATA}/a/b/c.ini', 'content': 'x'}],
                        shared_files=['db/site.sqlite3', 'top.db'])])[0]
    assert merged['_data_dirs'] == [DATA + '/a', DATA + '/a/b', DATA + '/db']


@pytest.mark.parametrize('path, fragment', [
    ('${MODWSGI_APP_RELEASE}/../x.py', "has an empty, '.' or '..' part"),
    ('${MODWSGI_APP_RELEASE}/venv/x.py', 'the release keeps its virtualenv there'),
    ('${MODWSGI_APP_RELEASE}/instance/config.py', 'lies in the shared path "instance"'),
    ('${MODWSGI_APP_OTHER}/x.py', 'without spaces, quotes or other ${...} names'),
    ('${MODWSGI_APP_DATA}/.modwsgi-setup/x', "inside the app's directory, which the role manages"),
])
def test_bad_files_paths(source, path, fragment):
    messages = errors([app(source, shared=['instance'], files=[{'path': path, 'content': 'x'}])])
    assert len(messages) == 1 and fragment in messages[0], messages


def test_release_files_need_a_source_directory(source):
    messages = errors([app(source, source={'type': 'pypi', 'spec': 'x'}, requirements=[],
                           files=[{'path': '${MODWSGI_APP_RELEASE}/a.py', 'content': 'x'}])])
    assert messages == ['%s.files[0].path "${MODWSGI_APP_RELEASE}/a.py" needs a dir, git or archive source: a pypi source '
                        'has no source directory.' % P]


@pytest.mark.parametrize('changes, expected', [
    ({'shared_files': 'db.sqlite3'}, ["%s.shared_files must be a list of files relative to the source root, such as "
                                      "['db.sqlite3']." % P]),
    ({'shared_files': ['/db.sqlite3']}, ["%s.shared_files[0] must be a file relative to the source root (e.g. "
                                         "'db.sqlite3'); \"/db.sqlite3\" is not: it is absolute." % P]),
    ({'shared_files': ['a', 'a']}, ['%s.shared_files lists "a" twice.' % P]),
    ({'shared': ['data'], 'shared_files': ['data/x.db']},
     ['%s.shared_files lists "data/x.db", which is inside the shared directory "data" already; drop it from one of them.' % P]),
    ({'shared': ['x'], 'shared_files': ['x']},
     ['%s.shared_files lists "x", which shared lists as a directory; a path is one or the other.' % P]),
    ({'source': {'type': 'pypi', 'spec': 'x'}, 'requirements': [], 'shared_files': ['x']},
     ['%s.shared_files needs a dir, git or archive source: a pypi source has no source directory to link from.' % P]),
])
def test_shared_files_errors(source, changes, expected):
    assert errors([app(source, **changes)]) == expected


def test_release_id_follows_the_placed_files_and_shared_files(source):
    merged = merge([app(source)])[0]
    plain = app_model.release_id(merged, 'dir:1')
    assert app_model.release_id(merged, 'dir:1', []) == plain  # ids of releases without them stay the same
    placed = [{'rel': 'a.py', 'mode': '0640', 'checksum': '1'}]
    with_file = app_model.release_id(merged, 'dir:1', placed)
    assert with_file != plain
    assert app_model.release_id(merged, 'dir:1', [dict(placed[0], checksum='2')]) != with_file
    assert app_model.release_id(merge([app(source, shared_files=['db.sqlite3'])])[0], 'dir:1') != plain


def test_static_paths_of_a_private_release(source):
    merged = merge([app(source, source={'type': 'dir', 'path': source, 'subdir': 'site'}, shared=['media'],
                        static=[{'url': '/static', 'path': 'hello/static/'}, {'url': '/media', 'path': 'media'},
                                {'url': '/abs', 'path': '/var/www/abs'}])])[0]
    assert merged['_static_dirs'] == ['/src/site/hello/static']
    assert merged['_static_parents'] == ['', '/src', '/src/site', '/src/site/hello']
