# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The app_model filters: the same results as the Jinja the app role used before, and usable from a play.

fixtures/legacy_app_role.yml holds that Jinja, verbatim. It is rendered here with ansible-core's Templar
over many inputs, good and bad, and compared with what plugins/module_utils/app_model.py computes: the
merged apps (key order included), every message and its order, the sites, the release ids and virtualenv
fingerprints (so releases and virtualenvs already on hosts keep their names). The prune plan is not compared:
it now reads what modwsgi.deploy.host_state reports, not ansible.builtin.find results, and
tests/unit/plugins/module_utils/test_app_model.py tests its keep rules directly. The last tests run the
filters in a real play, through their fully qualified names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import grp
import inspect
import json
import os
import pathlib
import pwd
import random
import subprocess
import sys

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.modwsgi.deploy.plugins.filter import app_model as plugin
from ansible_collections.modwsgi.deploy.plugins.filter.daemon_options import daemon_options
from ansible_collections.modwsgi.deploy.plugins.module_utils import app_model

HERE = pathlib.Path(__file__).resolve().parent
COLLECTION_ROOT = HERE.parents[3]
LEGACY = yaml.safe_load((HERE / 'fixtures' / 'legacy_app_role.yml').read_text(encoding='utf-8'))
# The legacy Jinja has regular expressions such as '[\\s"]' in Jinja string literals.
pytestmark = pytest.mark.filterwarnings('ignore:invalid escape sequence:DeprecationWarning')

FILTERS = ['app_merge', 'app_errors', 'app_python_errors', 'app_tls_files', 'app_tls_errors', 'app_daemon_lines',
           'app_sites', 'app_release_id', 'app_venv_fingerprint', 'app_requirements_local', 'app_prune_plan',
           'app_directories', 'app_host_query', 'path_matches', 'app_rejected_config']


# ---------------------------------------------------------------------------
# The legacy Jinja, rendered by ansible-core
# ---------------------------------------------------------------------------

def _trusted(value):
    """Mark the strings that hold Jinja as templates, as ansible-core does for role vars and task vars."""
    if isinstance(value, str) and ('{{' in value or '{%' in value):
        return trust_as_template(value)
    if isinstance(value, dict):
        return dict((key, _trusted(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def _native(value):
    if isinstance(value, dict):
        return dict((key, _native(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_native(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


ROLE_VARS = _trusted(yaml.safe_load(LEGACY['vars_main']))
NORMALIZE = yaml.safe_load(LEGACY['normalize'])
APP_KEYS = yaml.safe_load(LEGACY['app_keys'])
APP_SETS = yaml.safe_load(LEGACY['app_sets'])
HOST = yaml.safe_load(LEGACY['host'])
SITES = yaml.safe_load(LEGACY['sites'])
RELEASE = yaml.safe_load(LEGACY['release'])
VENV = yaml.safe_load(LEGACY['venv'])


def render(expression, task_vars=None, **variables):
    """Render expression as the role did: role vars, then the task's vars (templates), then facts and registers."""
    all_vars = dict(ROLE_VARS)
    all_vars.update(_trusted(task_vars or {}))
    all_vars.update(variables)
    return _native(Templar(loader=DataLoader(), variables=all_vars).template(trust_as_template(expression)))


def legacy_shape_ok(apps, defaults):
    return all(render('{{ %s }}' % test, modwsgi_apps=apps, modwsgi_app_defaults=defaults)
               for test in NORMALIZE[0]['ansible.builtin.assert']['that'])


def legacy_merge(apps, defaults, root, server, cpus, playbook_dir):
    facts = {} if server is None else {'modwsgi_server': server}
    return render('{{ __modwsgi_app_merged }}', NORMALIZE[1]['vars'], modwsgi_apps=apps, modwsgi_app_defaults=defaults,
                  modwsgi_app_root=root, ansible_facts=facts, playbook_dir=playbook_dir, __modwsgi_app_cpus=cpus)


def legacy_key_errors(merged, server):
    return render("{{ __errors | from_yaml | reject('none') | list }}", APP_KEYS[0]['vars'], __modwsgi_app_list=merged,
                  ansible_facts={'modwsgi_server': server})


def legacy_set_errors(merged):
    return render("{{ __errors | from_yaml | reject('none') | list }}", APP_SETS[0]['vars'], __modwsgi_app_list=merged)


def legacy_python_errors(merged, results, built_for):
    return render('{{ __errors }}', HOST[1]['vars'], __modwsgi_app_list=merged, __modwsgi_app_pythons={'results': results},
                  ansible_facts={'modwsgi_info': {'mod_wsgi': {'python_version': built_for}}})


def legacy_tls_files(merged):
    return render('{{ __tls_files }}', HOST[2]['vars'], __modwsgi_app_list=merged)


def legacy_tls_errors(results):
    task = HOST[3]
    if not render('{{ __missing }}', task['vars'], __modwsgi_app_tls_stat={'results': results}):
        return []
    return [render(task['ansible.builtin.fail']['msg'], task['vars'], __modwsgi_app_tls_stat={'results': results})]


def legacy_sites(present, lines, log_dir, default_listen):
    task_vars = SITES[0]['vars']
    common = dict(__modwsgi_app_present=present, __modwsgi_app_daemon_lines=lines, __modwsgi_app_default_listen=default_listen,
                  ansible_facts={'modwsgi_server': {'log_dir': log_dir}})
    sites = render('{{ __sites }}', task_vars, **common)
    ports = render('{{ __ports }}', task_vars, **common)
    wanted = render('{{ __modwsgi_app_wanted_files }}', __modwsgi_app_sites=sites, __modwsgi_app_listen_ports=ports)
    return {'sites': sites, 'listen_ports': ports, 'wanted_files': wanted}


def legacy_release_id(app, content_key):
    return render(RELEASE[0]['ansible.builtin.set_fact']['__modwsgi_app_release_id'], app=app,
                  __modwsgi_app_content_key=content_key)


def legacy_venv(app, requirements_text, python_version, pip_extra_args, content_key):
    """(fingerprint, local) as venv.yml worked them out, from the slurped file (when there is one)."""
    slurped = {} if requirements_text is None else {'content': base64.b64encode(requirements_text.encode('utf-8')).decode()}
    common = dict(app=app, __modwsgi_app_requirements_file=slurped, modwsgi_pip_extra_args=pip_extra_args,
                  __modwsgi_app_content_key=content_key,
                  __modwsgi_app_pythons={'results': [{'item': app['python'], 'stdout': python_version}]})
    return (render('{{ __fingerprint }}', VENV[0]['vars'], **common),
            render('{{ __local | bool }}', VENV[0]['vars'], **common))


def same(legacy, new):
    """Equal, and in the same order (dict keys included)."""
    return json.dumps(legacy) == json.dumps(new)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

@pytest.fixture(scope='module')
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp('legacy')
    (base / 'app').mkdir()
    for name in ('app.tar.gz', 'app.rar'):
        (base / name).write_text('x')
    return str(base)


def good_pools(base):
    return {
        'server_name': ['hello.example.com', 'Hello.Example.com', 'other.example.com'],
        'server_aliases': [[], ['www.example.com'], ['*.example.com', 'b.example.com'], ['b.example.com', '*.example.com']],
        'port': [80, 8080, 81],
        'mount': ['/', '/api', '/api/v1', '/API', '/b'],
        'source': [{'type': 'dir', 'path': base + '/app'}, {'type': 'dir', 'path': 'app', 'subdir': 'web'},
                   {'type': 'git', 'repo': 'https://example.com/r.git', 'version': 'main'},
                   {'type': 'archive', 'url': 'https://example.com/app.tar.gz'}, {'type': 'archive', 'path': base + '/app.tar.gz'},
                   {'type': 'pypi', 'spec': 'Werkzeug>=3'}],
        'requirements': [['flask', 'werkzeug'], 'req/base.txt', [], ['./local-pkg']],
        'python': ['/usr/bin/python3', '/opt/py/bin/python3.12'],
        'processes': [1, 4],
        'threads': [15],
        'keep_releases': [1, 5],
        'daemon_options': [{'maximum-requests': 100}, {'request-timeout': None}, {'processes': 3}],
        'env': [{'GREETING': 'Bonjour'}],
        'secret_env': [{'TOKEN': 'secret'}],
        'static': [[{'url': '/static', 'path': 'hello/static'}], [{'url': '/s', 'path': '/srv/s'}, {'url': '/static/long', 'path': 'p'}],
                   [{'url': '/Static', 'path': 'x'}, {'url': '/static', 'path': 'y'}]],
        'tls': [{'cert': '/c.pem', 'key': '/k.pem'}, {'key': '/k.pem', 'cert': '/c.pem'},
                {'cert': '/c.pem', 'key': '/k.pem', 'chain': '/ch.pem', 'port': 8443, 'redirect_http': False}],
        'health_check': [{'path': '/health'}, {'status': 204, 'timeout': 5}],
        'pre_switch': [['python manage.py migrate --noinput']],
        'mode': ['embedded'],
        'extra_directives': [['LogLevel info']],
        'state': ['absent'],
        'pass_authorization': [True],
    }


def bad_pools(base):
    return {
        'name': ['a/b', '..', 'my app', 5, 'x' * 27, 'Hello', 'hello\n', 'caf\u00e9'],
        'server_name': ['bad name', None, 5, '-x.example.com', 'a_b.example.com'],
        'server_aliases': [['bad alias'], [5], 'www.example.com'],
        'port': [0, 70000, 'eighty', '80', True, 80.5, None],
        'mount': ['api', '/api/', '/a/../b', '/x y', 5],
        'entry_point': ['hello', None, 5, '1x:y'],
        'source': [{'type': 'dir', 'path': '/nonexistent'}, {'type': 'dir'}, {'type': 'git'}, {'type': 'git', 'repo': ''},
                   {'type': 'archive', 'url': 'https://example.com/app.rar'}, {'type': 'archive', 'path': base + '/app.rar'},
                   {'type': 'archive', 'path': base + '/none.tgz'}, {'type': 'archive'}, {'type': 'archive', 'path': base + '/app'},
                   {'type': 'archive', 'url': 'u.zip', 'path': base + '/app.tar.gz'}, {'type': 'pypi'}, {'type': 'svn', 'path': '/tmp'},
                   {'path': '/tmp'}, 'dir', None, {'type': 'dir', 'path': base + '/app', 'subdir': '/abs'},
                   {'type': 'dir', 'path': base + '/app', 'subdir': 'a/../b'}, {'type': 'dir', 'path': base + '/app', 'subdir': 5},
                   {'type': None}],
        'requirements': ['../secrets.txt', '/abs.txt', '', ['flask', 5], {'a': 1}, 5],
        'python': ['python3', 5],
        'user': ['root', 'wheel', 'www-data', 'Bad', 5, 'u' * 33],
        'group': ['root', 'www-data', 'G'],
        'processes': [0, -1, '2', 2.5, True],
        'threads': [0, '5', 1.0],
        'keep_releases': [0, -1, '3'],
        'daemon_options': [{'user': 'x'}, {'python-home': '/x', 'home': '/y'}, {'python-path': '/p', 'group': 'g'}],
        'env': [{'BAD-NAME': 'x'}, {'1ABC': 'x', '_ok': 'y'}, {5: 'x'}],
        'secret_env': [{'BAD NAME': 's'}],
        'static': [[{'url': 'static', 'path': 'x'}], [{'url': '/s p', 'path': 'a b'}], [{'url': '/x', 'path': '../x'}],
                   [{'url': '/x', 'path': ''}], [{'url': None, 'path': None}], [{'path': 'p'}]],
        'tls': [{'cert': '/c.pem'}, {'cert': 'c.pem', 'key': '/k'}, {'cert': '/c', 'key': '/k', 'port': 80},
                {'cert': '/c', 'key': '/k', 'port': 70000}, {'cert': '/C.pem', 'key': '/k.pem'}, 'yes', {}],
        'health_check': [{'path': 'health'}, {'status': 99}, {'status': 600}, {'status': '200'}, {'timeout': 0},
                         {'timeout': 3601}, {'path': None}, 'x'],
        'pre_switch': ['echo', [5], {'a': 1}],
        'mode': ['threaded', None],
        'extra_directives': ['x', [1]],
        'state': ['gone', None],
    }


def make_apps(rng, pools, names, bad_rate, bad):
    apps = []
    for name in rng.sample(names, rng.choice([1, 2, 2, 3, 4])):
        entry = {'name': name, 'server_name': 'hello.example.com', 'entry_point': 'hello:app',
                 'source': copy.deepcopy(pools['source'][0])}
        for key, values in pools.items():
            if rng.random() < 0.25:
                entry[key] = copy.deepcopy(rng.choice(values))
        for key, values in bad.items():
            if rng.random() < bad_rate:
                entry[key] = copy.deepcopy(rng.choice(values))
        apps.append(entry)
    return apps


SERVERS = [
    {},
    {'python': '/usr/bin/python3.11', 'apache_user': 'www-data', 'apache_group': 'www-data', 'restrict_embedded': True,
     'log_dir': '/var/log/apache2'},
    {'python': '/usr/bin/python3', 'apache_user': 'apache', 'apache_group': 'apache', 'restrict_embedded': False,
     'log_dir': '/var/log/httpd'},
]
NAMES = ['hello', 'other', 'third', 'api', 'blog', 'shop']


# ---------------------------------------------------------------------------
# Parity with the legacy Jinja
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('seed', range(60))
def test_merge_and_every_message_match_the_legacy_jinja(paths, seed):
    rng = random.Random(seed)
    bad_rate = 0.0 if seed % 4 == 0 else 0.08
    apps = make_apps(rng, good_pools(paths), NAMES + ['Hello'], bad_rate, bad_pools(paths))
    defaults = {} if seed % 3 else {'threads': 10, 'env': {'DEFAULT': '1'}, 'health_check': {'timeout': 5}}
    server = SERVERS[seed % len(SERVERS)]
    cpus = [1, 2, 8, '4'][seed % 4]

    assert legacy_shape_ok(apps, defaults)
    legacy = legacy_merge(apps, defaults, '/srv/modwsgi', server, cpus, paths)
    merged = app_model.merge_apps(apps, defaults, '/srv/modwsgi', server, cpus, paths)
    assert same(legacy, merged)

    new_keys = app_model.key_errors(merged, server)
    new_sets = app_model.set_errors(merged)
    assert legacy_key_errors(legacy, server) == new_keys
    assert legacy_set_errors(legacy) == new_sets
    assert app_model.app_errors(apps, defaults, '/srv/modwsgi', server, cpus, paths) == new_keys + new_sets


SHAPES = [({'name': 'hello'}, {}), ('hello', {}), (['hello'], {}), ([], []), ([], {'name': 'x'}), ([{'name': 'a'}], {})]


@pytest.mark.parametrize('apps, defaults', SHAPES)
def test_shape_matches_the_legacy_assert(apps, defaults):
    assert (app_model.shape_errors(apps, defaults) == []) == legacy_shape_ok(apps, defaults)


# The inputs of the end-to-end suites (tests/preflight, tests/bad_inputs) that reach the role's own checks.
E2E = {
    'name-slash': {'name': 'a/b'},
    'name-dotdot': {'name': '..'},
    'name-space': {'name': 'my app'},
    'server-name': {'server_name': 'bad name'},
    'port-range': {'port': 70000},
    'port-type': {'port': 'eighty'},
    'mount-slash': {'mount': 'api'},
    'mount-trailing': {'mount': '/api/'},
    'entry-callable': {'entry_point': 'hello'},
    'source-missing-path': {'source': {'type': 'dir', 'path': '/nonexistent/app'}},
    'archive-format': {'source': {'type': 'archive', 'url': 'https://example.com/app.rar'}},
    'processes-zero': {'processes': 0},
    'threads-zero': {'threads': 0},
    'keep-negative': {'keep_releases': -1},
    'user-root': {'user': 'root'},
    'tls-no-key': {'tls': {'cert': '/etc/ssl/certs/a.pem'}},
    'static-url': {'static': [{'url': 'static', 'path': 'hello/static'}]},
    'env-name': {'env': {'BAD-NAME': 'x'}},
    'health-path': {'health_check': {'path': 'health'}},
    'requirements-escape': {'requirements': '../secrets.txt'},
    'mode': {'mode': 'threaded'},
    'daemon-options-user': {'daemon_options': {'user': 'www-data'}},
    'daemon-options-python-home': {'daemon_options': {'python-home': '/opt/other'}},
}


@pytest.mark.parametrize('case', sorted(E2E))
def test_end_to_end_cases_match_the_legacy_jinja(paths, case):
    apps = [dict({'name': 'hello', 'server_name': 'hello.test', 'entry_point': 'hello:app',
                  'source': {'type': 'dir', 'path': paths + '/app'}}, **E2E[case])]
    server = SERVERS[1]
    legacy = legacy_merge(apps, {}, '/srv/modwsgi', server, 2, paths)
    expected = legacy_key_errors(legacy, server) + legacy_set_errors(legacy)
    assert expected
    assert app_model.app_errors(apps, {}, '/srv/modwsgi', server, 2, paths) == expected


def test_duplicates_match_the_legacy_jinja(paths):
    base = {'name': 'hello', 'server_name': 'hello.test', 'entry_point': 'hello:app', 'source': {'type': 'dir', 'path': paths + '/app'}}
    for apps in ([base, dict(base, server_name='other.test')], [base, dict(base, name='other')],
                 [base, dict(base, name='Hello', mount='/h')], [dict(base, user='shared'), dict(base, name='b', mount='/b', user='shared')],
                 [dict(base, tls={'cert': '/c', 'key': '/k'}), dict(base, name='b', mount='/b', tls={'key': '/k', 'cert': '/c'})],
                 [dict(base, tls={'cert': '/C', 'key': '/k'}), dict(base, name='b', mount='/b', tls={'cert': '/c', 'key': '/k'})],
                 [dict(base, server_aliases=['A.test']), dict(base, name='b', mount='/b', server_aliases=['a.test'])]):
        legacy = legacy_merge(apps, {}, '/srv/modwsgi', {}, 2, paths)
        assert legacy_set_errors(legacy) == app_model.set_errors(app_model.merge_apps(apps, {}, '/srv/modwsgi', {}, 2, paths))


REQUIREMENTS_TEXTS = [None, '', 'flask\n', 'flask==3.0  # pinned\n-r other.txt\n', './local\n', 'pkg.whl\n', 'https://x/y.tar.gz\n',
                      'file:foo\n', '~/x\n', 'x # ./y\n', 'caf\u00e9>=1\n', '-e .\n', 'a ; python_version < "3.12"\n']


@pytest.mark.parametrize('seed', range(16))
def test_host_checks_sites_releases_and_venvs_match_the_legacy_jinja(paths, seed):
    rng = random.Random(1000 + seed)
    server = SERVERS[1 + seed % 2]
    apps = make_apps(rng, good_pools(paths), NAMES, 0.0, {})
    legacy = legacy_merge(apps, {}, '/srv/modwsgi', server, 4, paths)
    merged = app_model.merge_apps(apps, {}, '/srv/modwsgi', server, 4, paths)
    present = [app for app in legacy if app['state'] == 'present']

    pythons = app_model._unique(app['python'] for app in present)  # pylint: disable=protected-access
    results = [rng.choice([{'rc': 0, 'stdout': '3.11', 'stderr': ''}, {'rc': 0, 'stdout': '3.12', 'stderr': ''},
                           {'rc': 2, 'stdout': '', 'stderr': ''}, {'rc': 1, 'stdout': '', 'stderr': 'Traceback\nNo module named venv'},
                           {'skipped': True}]) for dummy in pythons]
    results = [dict(result, item=python) for python, result in zip(pythons, results)]
    assert legacy_python_errors(legacy, results, '3.11') == app_model.python_errors(merged, results, '3.11')

    files = legacy_tls_files(legacy)
    assert files == app_model.tls_files(merged)
    stats = [{'item': item, 'stat': rng.choice([{'exists': False}, {'exists': True, 'isreg': True}, {'exists': True, 'isreg': False}])}
             for item in files]
    assert legacy_tls_errors(stats) == app_model.tls_errors(stats)

    lines = app_model.daemon_lines(merged, '5.0.2', daemon_options)
    for default_listen in ([80, 443], [80], []):
        assert same(legacy_sites(present, lines, server['log_dir'], default_listen),
                    app_model.sites(merged, lines, server['log_dir'], default_listen))

    for old, new in zip(legacy, merged):
        for content_key in ('dir:0f1e2d', 'git:0123456789abcdef', 'pypi:Werkzeug>=3', 'archive:caf\u00e9'):
            assert legacy_release_id(old, content_key) == app_model.release_id(new, content_key)
        for text in rng.sample(REQUIREMENTS_TEXTS, 4):
            python_version, extra = rng.choice([('3.11', ''), ('', '--no-cache-dir')])
            fingerprint, local = legacy_venv(old, text, python_version, extra, 'dir:0f1e2d')
            assert fingerprint == app_model.venv_fingerprint(new, text, python_version, extra, 'dir:0f1e2d')
            assert local is app_model.requirements_are_local(app_model.requirement_lines(new, text))


def test_release_id_of_a_known_app_is_stable(paths):
    """A fixed value: a change here renames every release on every host."""
    app = {'source': {'subdir': ''}, 'requirements': 'requirements.txt', 'python': '/usr/bin/python3',
           'entry_point': 'hello:app', 'pre_switch': []}
    assert legacy_release_id(app, 'dir:abc') == app_model.release_id(app, 'dir:abc') == plugin.app_release_id(app, 'dir:abc')


# ---------------------------------------------------------------------------
# The filters themselves
# ---------------------------------------------------------------------------

def test_filter_names():
    assert sorted(plugin.FilterModule().filters()) == sorted(FILTERS)


@pytest.mark.parametrize('name', FILTERS)
def test_each_filter_has_documentation_matching_its_signature(name):
    doc = yaml.safe_load((COLLECTION_ROOT / 'plugins' / 'filter' / (name + '.yml')).read_text(encoding='utf-8'))
    assert sorted(doc) == ['DOCUMENTATION', 'EXAMPLES', 'RETURN']
    documentation = doc['DOCUMENTATION']
    assert documentation['name'] == name
    assert documentation['short_description'] and documentation['description']
    assert name in doc['EXAMPLES'] and doc['RETURN']['_value']['description']
    parameters = list(inspect.signature(plugin.FilterModule().filters()[name]).parameters)
    assert sorted(documentation['options']) == sorted(['_input'] + parameters[1:])
    positional = [word.strip() for word in documentation.get('positional', '').split(',') if word.strip()]
    assert positional == parameters[1:]
    for option, spec in documentation['options'].items():
        assert spec.get('description'), option


def test_filters_take_ansible_containers_and_return_plain_data(paths):
    apps = [{'name': 'hello', 'server_name': 'hello.test', 'entry_point': 'hello:app', 'source': {'type': 'dir', 'path': 'app'}}]
    merged = plugin.app_merge(apps, {}, '/srv/modwsgi', {}, 2, paths)
    assert merged == app_model.merge_apps(apps, {}, '/srv/modwsgi', {}, 2, paths)
    assert plugin.app_errors(apps, {}, '/srv/modwsgi', {}, 2, paths) == []
    assert plugin.app_errors({'name': 'x'}, {}, '/srv/modwsgi') == [app_model.SHAPE_MESSAGE]
    assert plugin.app_tls_files(merged) == []
    assert plugin.app_tls_errors([]) == []
    assert plugin.app_python_errors(merged, [{'item': '/usr/bin/python3', 'rc': 0, 'stdout': '3.11'}], '3.11') == []
    lines = plugin.app_daemon_lines(merged, '5.0.2')
    assert lines['hello'].startswith('processes=2 threads=5 user=wsgi-hello group=wsgi-hello display-name=%{GROUP} ')
    assert plugin.app_sites(merged, lines, '/logs', [80])['wanted_files'] == ['modwsgi-hello.test-80.conf']
    assert plugin.app_requirements_local(['-r x.txt']) is True
    assert len(plugin.app_venv_fingerprint(merged[0], None, '3.11', '', 'dir:x')) == 12
    host = {'exists': True, 'current': 'releases/aaaa', 'previous': None, 'current_release': 'aaaa', 'previous_release': None,
            'current_verified': True, 'user': None, 'group': None,
            'releases': {'aaaa': {'complete': True, 'verified': True, 'mtime': 1.5, 'venv': 'v1'},
                         'bbbb': {'complete': False, 'verified': False, 'mtime': 2.5, 'venv': None}},
            'venvs': {'v1': {'complete': True}, 'v2': {'complete': False}}}
    assert plugin.app_prune_plan(merged[0], host, {'release': 'cccc', 'venv_id': 'v1', 'current_link': 'releases/cccc',
                                                   'previous_link': 'releases/aaaa'}) == {
        'releases': ['/srv/modwsgi/hello/releases/bbbb'], 'venvs': ['/srv/modwsgi/hello/venvs/v2']}
    assert plugin.app_prune_plan(merged[0], {'releases': {}, 'venvs': {}}, {'release': 'x'}) == {'releases': [], 'venvs': []}
    wanted = app_model.directories(merged[0], 'wheel')
    assert [item['path'] for item in wanted] == ['/srv/modwsgi'] + ['/srv/modwsgi/hello' + sub for sub in (
        '', '/releases', '/venvs', '/wsgi', '/cache', '/data')]
    assert plugin.app_directories(merged[0], 'wheel') == wanted
    assert plugin.app_directories(merged[0], 'wheel', {}) == wanted
    paths = dict((item['path'], {'type': 'directory', 'owner': item['owner'], 'group': item['group'], 'mode': item['mode'],
                                 'checksum': None, 'target': None}) for item in wanted)
    assert plugin.app_directories(merged[0], 'wheel', paths) == []
    paths['/srv/modwsgi/hello/cache'] = None
    assert plugin.app_directories(merged[0], 'wheel', paths) == [wanted[5]]
    server = {'root_group': 'wheel', 'vhost_dir': '/etc/httpd/conf.d', 'vhost_enabled_dir': ''}
    assert plugin.app_host_query(merged, server, ['modwsgi-hello.test-80.conf']) == {
        'apps': [{'name': 'hello', 'user': 'wsgi-hello', 'group': 'wsgi-hello', 'release_marker': '.modwsgi-release',
                  'venv_marker_prefix': '.modwsgi-venv-', 'verified_marker': '.modwsgi-verified'}],
        'paths': [item['path'] for item in wanted] + ['/srv/modwsgi/hello/wsgi/hello.wsgi', '/srv/modwsgi/hello/env.json',
                                                      '/srv/modwsgi/hello/secret_env.json',
                                                      '/etc/httpd/conf.d/modwsgi-hello.test-80.conf'],
        'globs': ['/etc/httpd/conf.d/modwsgi-*.conf'],
    }
    link = {'type': 'link', 'owner': 'root', 'group': 'root', 'mode': '0777', 'checksum': None, 'target': '../x.conf'}
    assert plugin.path_matches(link, kind='link', target='../x.conf') is True
    assert plugin.path_matches(link, 'link', None, 'root', 'root', '0777', '../x.conf') is True
    assert plugin.path_matches(link, kind='file') is False
    assert plugin.path_matches(None, kind='link') is False
    assert plugin.app_rejected_config({'failed': True, 'msg': 'failed to validate', 'stderr': 'AH00526:\n  Bad'}) == (
        "modwsgi-listen.conf failed Apache's configuration check and was not written; the live configuration and the "
        "serving releases are unchanged. Apache said: AH00526: Bad -- check the extra_directives, tls and static "
        "settings of the apps on that host name.")


def test_new_filters_fail_naming_themselves():
    with pytest.raises(AnsibleFilterError, match="^app_directories: _dir$"):
        plugin.app_directories({'name': 'hello'}, 'root')
    with pytest.raises(AnsibleFilterError, match="^app_host_query: user$"):
        plugin.app_host_query([{'name': 'hello'}], {}, [])
    with pytest.raises(AnsibleFilterError, match="^app_prune_plan: _dir$"):
        plugin.app_prune_plan({'name': 'hello'}, {'releases': {}, 'venvs': {}}, {'release': 'x', 'current_link': 'releases/x'})


def test_app_merge_fails_on_a_bad_shape():
    with pytest.raises(AnsibleFilterError, match='^modwsgi_apps must be a list of dicts'):
        plugin.app_merge({'name': 'hello'}, {}, '/srv/modwsgi')


def test_app_daemon_lines_fails_naming_the_app(paths):
    merged = plugin.app_merge([{'name': 'hello', 'server_name': 'h.test', 'entry_point': 'h:app', 'source': {'type': 'pypi', 'spec': 'x'},
                                'daemon_options': {'interrupt-timeout': 30}}], {}, '/srv/modwsgi')
    with pytest.raises(AnsibleFilterError) as excinfo:
        plugin.app_daemon_lines(merged, '5.0.2')
    assert str(excinfo.value).startswith("modwsgi_apps[0] (hello).daemon_options: option 'interrupt-timeout' needs mod_wsgi >= 6.0")


def test_app_sites_fails_without_a_daemon_line(paths):
    merged = plugin.app_merge([{'name': 'hello', 'server_name': 'h.test', 'entry_point': 'h:app', 'source': {'type': 'pypi', 'spec': 'x'}}],
                              {}, '/srv/modwsgi')
    with pytest.raises(AnsibleFilterError, match='^app_sites: no WSGIDaemonProcess options were rendered for the app hello'):
        plugin.app_sites(merged, {}, '/logs', [80])


# ---------------------------------------------------------------------------
# In a play, through the fully qualified names
# ---------------------------------------------------------------------------

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    greeting: Bonjour
    requirements_text: "flask\\n"
    apache_said: "AH00526: Syntax error on line 7:\\n  Invalid command\\n"
    modwsgi_apps:
      - name: hello
        server_name: hello.test
        entry_point: hello:app
        source: {type: dir, path: app}
        env: {GREETING: "{{ greeting }}"}
        secret_env: {TOKEN: "{{ 'sec' ~ 'ret' }}"}
        static: [{url: /static, path: hello/static}]
        tls: {cert: /etc/ssl/certs/hello.pem, key: /etc/ssl/private/hello.key}
        keep_releases: 1
      - name: api
        server_name: hello.test
        mount: /api
        entry_point: api:app
        source: {type: pypi, spec: "Werkzeug>=3"}
        tls: {cert: /etc/ssl/certs/hello.pem, key: /etc/ssl/private/hello.key}
        daemon_options: {maximum-requests: 1000}
      - name: gone
        state: absent
    root: "{{ base }}/srv"
    server:
      python: /usr/bin/python3
      apache_user: www-data
      apache_group: www-data
      restrict_embedded: true
      log_dir: /var/log/apache2
      root_group: "{{ group }}"
      vhost_dir: "{{ base }}/sites-available"
      vhost_enabled_dir: "{{ base }}/sites-enabled"
    apps: "{{ modwsgi_apps | modwsgi.deploy.app_merge({}, root, server, 4, playbook_dir) }}"
    lines: "{{ apps | modwsgi.deploy.app_daemon_lines('5.0.2') }}"
    sites: "{{ apps | modwsgi.deploy.app_sites(lines, server.log_dir, [80]) }}"
    query: "{{ apps | modwsgi.deploy.app_host_query(server, sites.wanted_files) }}"
    # The app's entry of the role's state after activate/switch.yml: this run built release eeee and
    # its venv v4 after the host was read, and switched current from cccc to it.
    run_state: {release: eeee, built: true, venv_id: v4, changed: true, current_link: releases/eeee, previous_link: releases/cccc}
  tasks:
    - name: Read the host as the app role does
      modwsgi.deploy.host_state:
        root: "{{ root }}"
        apps: "{{ query.apps }}"
        paths: "{{ query.paths }}"
        globs: "{{ query.globs }}"
      register: host

    - name: Write what the filters return
      ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0644"
        content: >-
          {{ {'apps': apps,
              'errors': modwsgi_apps | modwsgi.deploy.app_errors({}, root, server, 4, playbook_dir),
              'bad': [{'name': 'Bad', 'server_name': 'b.test', 'entry_point': 'b:app', 'source': {'type': 'git'}}]
                     | modwsgi.deploy.app_errors({}, root, server, 4, playbook_dir),
              'python': apps | modwsgi.deploy.app_python_errors([{'item': '/usr/bin/python3', 'rc': 0, 'stdout': '3.12'}], '3.11'),
              'tls_files': apps | modwsgi.deploy.app_tls_files,
              'tls_errors': [{'item': ['hello.tls.cert', '/nowhere.pem'], 'stat': {'exists': false}}] | modwsgi.deploy.app_tls_errors,
              'lines': lines,
              'sites': sites,
              'release': apps[0] | modwsgi.deploy.app_release_id('dir:abc'),
              'venv': apps[0] | modwsgi.deploy.app_venv_fingerprint(requirements_text, '3.11', '', 'dir:abc'),
              'local': ['-r base.txt'] | modwsgi.deploy.app_requirements_local,
              'query': query,
              'host': {'apps': host.apps, 'paths': host.paths, 'globs': host.globs},
              'prune': apps[0] | modwsgi.deploy.app_prune_plan(host.apps.hello, run_state),
              'directories': apps[0] | modwsgi.deploy.app_directories(server.root_group),
              'to_fix': apps[0] | modwsgi.deploy.app_directories(server.root_group, host.paths),
              'matches': [
                host.paths[apps[0]._env_file] | modwsgi.deploy.path_matches(kind='file', owner=user, group=group,
                  mode='0640', checksum='{}' | hash('sha1')),
                host.paths[apps[0]._env_file] | modwsgi.deploy.path_matches(kind='file', mode='0644'),
                host.paths[apps[0]._env_file] | modwsgi.deploy.path_matches(kind='file', checksum='x' | hash('sha1')),
                host.paths[apps[0]._dir] | modwsgi.deploy.path_matches('directory'),
                host.paths[apps[0]._wsgi_file] | modwsgi.deploy.path_matches(kind='file'),
                host.paths[server.vhost_enabled_dir ~ '/' ~ sites.wanted_files[0]]
                  | modwsgi.deploy.path_matches(kind='link', target='../sites-available/' ~ sites.wanted_files[0]),
                host.paths[server.vhost_enabled_dir ~ '/' ~ sites.wanted_files[0]]
                  | modwsgi.deploy.path_matches(kind='link', target=server.vhost_dir ~ '/' ~ sites.wanted_files[0])],
              'rejected': {'failed': true, 'msg': 'One or more items failed', 'results': [
                             {'site': sites.sites[0], 'failed': true, 'msg': 'failed to validate',
                              'stderr': apache_said}]}
                          | modwsgi.deploy.app_rejected_config} | to_json }}
"""


def make_host(base):
    """A host tree for the play: hello's releases, venvs, links and env file, and the virtual host files."""
    hello = base / 'srv' / 'hello'
    releases = [('aaaa', 1000.0, 'v1'), ('bbbb', 2000.0, 'v2'), ('cccc', 3000.0, 'v2'), ('dddd', None, None)]
    for rid, mtime, venv in releases:
        (hello / 'releases' / rid).mkdir(parents=True)
        if mtime is not None:
            marker = hello / 'releases' / rid / '.modwsgi-release'
            marker.write_text('')
            os.utime(str(marker), (mtime, mtime))
        if venv is not None:
            (hello / 'releases' / rid / 'venv').symlink_to('../../venvs/' + venv)
    for fingerprint, complete in (('v1', True), ('v2', True), ('v3', False)):
        (hello / 'venvs' / fingerprint).mkdir(parents=True)
        if complete:
            (hello / 'venvs' / fingerprint / ('.modwsgi-venv-' + fingerprint)).write_text('')
    (hello / 'current').symlink_to('releases/cccc')
    (hello / 'previous').symlink_to('releases/bbbb')
    (hello / 'env.json').write_text('{}')
    for path, mode in ((base / 'srv', 0o755), (hello, 0o700), (hello / 'releases', 0o755), (hello / 'venvs', 0o755),
                       (hello / 'env.json', 0o640)):
        os.chmod(str(path), mode)
    (base / 'sites-available').mkdir()
    (base / 'sites-enabled').mkdir()
    for name in ('modwsgi-hello.test-80.conf', 'modwsgi-old.test-80.conf'):
        (base / 'sites-available' / name).write_text('# %s\n' % name)
    (base / 'sites-enabled' / 'modwsgi-hello.test-80.conf').symlink_to('../sites-available/modwsgi-hello.test-80.conf')
    (base / 'sites-enabled' / 'modwsgi-old.test-80.conf').symlink_to('../sites-available/modwsgi-old.test-80.conf')


def test_filters_in_a_play(tmp_path):
    tree = tmp_path / 'collections'
    namespace = tree / 'ansible_collections' / 'modwsgi'
    namespace.mkdir(parents=True)
    (namespace / 'deploy').symlink_to(COLLECTION_ROOT, target_is_directory=True)
    (tmp_path / 'app').mkdir()
    (tmp_path / 'play.yml').write_text(PLAY, encoding='utf-8')
    (tmp_path / 'ansible.cfg').write_text('# empty: no ansible.cfg of the caller applies\n', encoding='utf-8')
    base = tmp_path / 'host'
    make_host(base)
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    out = tmp_path / 'out.json'
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('ANSIBLE_'))
    env.update(ANSIBLE_CONFIG=str(tmp_path / 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=str(tree), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), ANSIBLE_HOME=str(tmp_path / 'home'))
    extra = {'out': str(out), 'ansible_python_interpreter': sys.executable, 'base': str(base), 'user': user, 'group': group}
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(tmp_path / 'play.yml'),
               '-e', json.dumps(extra)]
    proc = subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding='utf-8'))

    root = str(base / 'srv')
    apps = result['apps']
    assert [app['name'] for app in apps] == ['hello', 'api', 'gone']
    assert apps[0]['env'] == {'GREETING': 'Bonjour'} and apps[0]['secret_env'] == {'TOKEN': 'secret'}
    assert apps[0]['source']['path'] == str(tmp_path / 'app')
    assert apps[0]['processes'] == 4
    assert apps[0]['_dir'] == root + '/hello'
    plain = yaml.safe_load(PLAY)[0]['vars']
    plain['modwsgi_apps'][0]['env'] = {'GREETING': 'Bonjour'}
    plain['modwsgi_apps'][0]['secret_env'] = {'TOKEN': 'secret'}
    server = dict(plain['server'], root_group=group, vhost_dir=str(base / 'sites-available'),
                  vhost_enabled_dir=str(base / 'sites-enabled'))
    assert same(app_model.merge_apps(plain['modwsgi_apps'], {}, root, server, 4, str(tmp_path)), apps)
    assert result['errors'] == []
    assert result['bad'] == [
        "modwsgi_apps[0] (Bad).name must be 1-26 lowercase letters, digits, '-' or '_', starting with a letter or digit; "
        "got \"Bad\".",
        'modwsgi_apps[0] (Bad).source.repo must name the git repository to clone.',
        "modwsgi_apps[0] (Bad).user must be a system user name (lowercase letters, digits, '-', '_'); got \"wsgi-Bad\".",
        "modwsgi_apps[0] (Bad).group must be a system group name (lowercase letters, digits, '-', '_'); got \"wsgi-Bad\".",
    ]
    assert result['python'] == app_model.python_errors(apps, [{'item': '/usr/bin/python3', 'rc': 0, 'stdout': '3.12'}], '3.11')
    assert result['tls_files'] == [['hello.tls.cert', '/etc/ssl/certs/hello.pem'], ['hello.tls.key', '/etc/ssl/private/hello.key'],
                                   ['api.tls.cert', '/etc/ssl/certs/hello.pem'], ['api.tls.key', '/etc/ssl/private/hello.key']]
    assert result['tls_errors'] == [app_model.missing_tls_message([['hello.tls.cert', '/nowhere.pem']])]
    assert result['lines'] == app_model.daemon_lines(apps, '5.0.2', daemon_options)
    assert result['lines']['api'].endswith(' queue-timeout=45 maximum-requests=1000')
    assert 'python-path' not in result['lines']['api']
    sites = result['sites']
    assert same(sites, app_model.sites(apps, result['lines'], '/var/log/apache2', [80]))
    assert [app['name'] for app in sites['sites'][0]['apps']] == ['api', 'hello']
    assert 'secret_env' not in sites['sites'][0]['apps'][1]
    assert sites['listen_ports'] == [443]
    assert sites['wanted_files'] == ['modwsgi-hello.test-80.conf', 'modwsgi-listen.conf']
    assert result['release'] == app_model.release_id(apps[0], 'dir:abc')
    assert result['venv'] == app_model.venv_fingerprint(apps[0], 'flask\n', '3.11', '', 'dir:abc')
    assert result['local'] is True

    # What the role reads from the host, read by modwsgi.deploy.host_state.
    available, enabled = str(base / 'sites-available'), str(base / 'sites-enabled')
    markers = {'release_marker': '.modwsgi-release', 'venv_marker_prefix': '.modwsgi-venv-', 'verified_marker': '.modwsgi-verified'}
    owned = ['', '/releases', '/venvs', '/wsgi', '/cache', '/data', '/wsgi/%s.wsgi', '/env.json', '/secret_env.json']
    app_paths = [root + '/' + name + (sub % name if '%s' in sub else sub) for name in ('hello', 'api') for sub in owned]
    vhost_paths = [available + '/modwsgi-hello.test-80.conf', enabled + '/modwsgi-hello.test-80.conf',
                   available + '/modwsgi-listen.conf', enabled + '/modwsgi-listen.conf']
    assert result['query'] == {
        'apps': [dict({'name': name, 'user': 'wsgi-' + name, 'group': 'wsgi-' + name}, **markers) for name in ('hello', 'api', 'gone')],
        'paths': [root] + app_paths + vhost_paths,
        'globs': [available + '/modwsgi-*.conf', enabled + '/modwsgi-*.conf'],
    }
    host = result['host']
    assert sorted(host['apps']) == ['api', 'gone', 'hello']
    assert host['apps']['hello']['releases'] == {
        'aaaa': {'complete': True, 'verified': False, 'mtime': 1000.0, 'venv': 'v1'},
        'bbbb': {'complete': True, 'verified': False, 'mtime': 2000.0, 'venv': 'v2'},
        'cccc': {'complete': True, 'verified': False, 'mtime': 3000.0, 'venv': 'v2'},
        'dddd': {'complete': False, 'verified': False, 'mtime': os.stat(str(base / 'srv/hello/releases/dddd')).st_mtime,
                 'venv': None},
    }
    assert host['globs'] == {
        available + '/modwsgi-*.conf': [available + '/modwsgi-hello.test-80.conf', available + '/modwsgi-old.test-80.conf'],
        enabled + '/modwsgi-*.conf': [enabled + '/modwsgi-hello.test-80.conf', enabled + '/modwsgi-old.test-80.conf'],
    }
    assert sorted(host['paths']) == sorted(result['query']['paths'])

    # Kept: eeee (this run's, built after the read: the newest) and cccc (previous); v4 is eeee's.
    assert result['prune'] == {
        'releases': [root + '/hello/releases/' + rid for rid in ('aaaa', 'bbbb', 'dddd')],
        'venvs': [root + '/hello/venvs/' + fingerprint for fingerprint in ('v1', 'v3')],
    }
    wanted = [{'path': root, 'owner': 'root', 'group': group, 'mode': '0755'}] + [
        {'path': root + '/hello' + sub, 'owner': 'root', 'group': group, 'mode': mode}
        for sub, mode in (('', '0755'), ('/releases', '0755'), ('/venvs', '0755'), ('/wsgi', '0755'), ('/cache', '0700'))] + [
        {'path': root + '/hello/data', 'owner': 'wsgi-hello', 'group': 'wsgi-hello', 'mode': '0750'}]
    assert result['directories'] == wanted
    # hello is 0700, wsgi, cache and data are missing; the rest is right when root owns it.
    assert result['to_fix'] == (wanted[1:2] + wanted[4:] if user == 'root' else wanted)
    assert result['to_fix'] == app_model.directories_to_fix(apps[0], group, host['paths'])
    assert result['matches'] == [True, False, False, True, False, True, False]
    assert result['rejected'] == (
        "modwsgi-hello.test-80.conf failed Apache's configuration check and was not written; the live configuration and "
        "the serving releases are unchanged. Apache said: AH00526: Syntax error on line 7: Invalid command -- check the "
        "extra_directives, tls and static settings of the apps on that host name.")


def test_ansible_doc_renders_every_filter(tmp_path):
    tree = tmp_path / 'collections'
    namespace = tree / 'ansible_collections' / 'modwsgi'
    namespace.mkdir(parents=True)
    (namespace / 'deploy').symlink_to(COLLECTION_ROOT, target_is_directory=True)
    (tmp_path / 'ansible.cfg').write_text('# empty: no ansible.cfg of the caller applies\n', encoding='utf-8')
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('ANSIBLE_'))
    env.update(ANSIBLE_CONFIG=str(tmp_path / 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=str(tree), ANSIBLE_NOCOLOR='1',
               ANSIBLE_DEPRECATION_WARNINGS='1', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), PAGER='cat')
    names = ['modwsgi.deploy.' + name for name in FILTERS]
    command = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    for args in (['-t', 'filter', '--json'] + names, ['-t', 'filter'] + names):
        proc = subprocess.run([command] + args, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        for word in ('[WARNING]', '[DEPRECATION WARNING]', 'ERROR'):
            assert word not in proc.stderr, proc.stderr
        if '--json' in args:
            data = json.loads(proc.stdout)
            assert sorted(data) == sorted(names)
            for name in names:
                doc = data[name]['doc']
                assert doc['collection'] == 'modwsgi.deploy'
                assert pathlib.Path(doc['filename']).name == name.split('.')[-1] + '.yml'
                assert data[name]['examples'].strip() and data[name]['return']['_value']
        else:
            for name in names:
                assert '> FILTER %s ' % name in proc.stdout
