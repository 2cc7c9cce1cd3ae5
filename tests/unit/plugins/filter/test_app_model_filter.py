# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The app_model filters: the same results as the Jinja the app role used before, and usable from a play.

fixtures/legacy_app_role.yml holds that Jinja, verbatim. It is rendered here with ansible-core's Templar
over many inputs, good and bad, and compared with what plugins/module_utils/app_model.py computes: the
merged apps (key order included), every message and its order, the sites, the release ids and virtualenv
fingerprints (so releases and virtualenvs already on hosts keep their names). What 0.2.0 changed on purpose is
left out of the comparison, and checked on its own: the new app keys and merged paths, the entry_point and mode
messages, and the per-port Listen files (see comparable_merged, split_messages and comparable_sites). The
prune plan is not compared:
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
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 (no data tagging): every string is a template already
    def trust_as_template(value):
        return value

from ansible_collections.modwsgi.deploy.plugins.filter import app_model as plugin
from ansible_collections.modwsgi.deploy.plugins.filter.daemon_options import daemon_options
from ansible_collections.modwsgi.deploy.plugins.module_utils import app_model

HERE = pathlib.Path(__file__).resolve().parent
COLLECTION_ROOT = HERE.parents[3]
ANSIBLE_CORE = tuple(int(part) for part in ANSIBLE_CORE_VERSION.split('.')[:2])
# The venv fingerprint of the legacy Jinja is the JSON of a dict built in a template: ansible-core 2.19 renders it
# with native types, older cores render its parts (None among them) as strings first, so it hashed other JSON
# there and the comparison with venv_fingerprint (which matches 2.19, the version 0.1.0 was tested on) holds from
# 2.19 on only. Everything else is compared on every version.
TEMPLATING_2_19 = ANSIBLE_CORE >= (2, 19)
LEGACY = yaml.safe_load((HERE / 'fixtures' / 'legacy_app_role.yml').read_text(encoding='utf-8'))
# The legacy Jinja has regular expressions such as '[\\s"]' in Jinja string literals.
pytestmark = pytest.mark.filterwarnings('ignore:invalid escape sequence:DeprecationWarning')

FILTERS = ['app_merge', 'app_errors', 'app_python_errors', 'app_tls_files', 'app_tls_errors', 'app_daemon_lines',
           'app_sites', 'app_release_id', 'app_venv_fingerprint', 'app_requirements_local', 'app_prune_plan',
           'app_directories', 'app_host_query', 'path_matches', 'app_rejected_config', 'app_config_plan', 'app_runtime',
           'app_expand']


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
# What 0.2.0 changed on purpose, left out of the comparisons (and checked on its own)
# ---------------------------------------------------------------------------

# App keys added in 0.2.0 and 0.3.0 (appended to BUILTIN_DEFAULTS) and the paths merge_apps adds for them; the
# legacy Jinja knows none of them.
NEW_APP_KEYS = ('setup', 'files', 'shared', 'shared_files', 'default_site')
NEW_MERGED_KEYS = ('_config', '_setup_records', '_files_manifest', '_files', '_data_dirs', '_static_dirs', '_static_parents')


def comparable_merged(merged):
    """The merged apps without the keys 0.2.0 added, every other key in its order."""
    for app in merged:
        assert [key for key in app if key in NEW_APP_KEYS + NEW_MERGED_KEYS] == list(NEW_APP_KEYS + NEW_MERGED_KEYS)
    return [dict((key, value) for key, value in app.items() if key not in NEW_APP_KEYS + NEW_MERGED_KEYS) for app in merged]


def split_messages(messages, merged, key):
    """(the messages about other keys, the labels of the apps with a message about key)."""
    labels = [app_model._app_label(app) for app in merged]  # pylint: disable=protected-access
    about = [label for message in messages for label in labels
             if message.startswith(label + '.' + key + ' ') or message.startswith(label + '.' + key + ':')]
    return [message for message in messages
            if not any(message.startswith(label + '.' + key + ' ') or message.startswith(label + '.' + key + ':')
                       for label in labels)], about


def comparable_sites(result):
    """app_sites' result as the legacy Jinja's, after checking what 0.2.0 changed on purpose.

    The sites gained default_site (no app of the random inputs sets it, so no file name changes), their apps
    leave out files and _files as they leave out secret_env, and the extra ports have one Listen file each
    instead of modwsgi-listen.conf.
    """
    listen_files = [item['file'] for item in result['listen_files']]
    assert [item['port'] for item in result['listen_files']] == result['listen_ports']
    assert listen_files == ['modwsgi-listen-%d.conf' % port for port in result['listen_ports']]
    assert sorted(result['owners']) == sorted(result['wanted_files'])
    assert result['wanted_files'][len(result['sites']):] == listen_files
    sites = []
    for site in result['sites']:
        assert site['default_site'] is False
        assert all(not set(app) & {'secret_env', 'files', '_files'} for app in site['apps'])
        apps = [dict((key, value) for key, value in app.items() if key not in NEW_APP_KEYS + NEW_MERGED_KEYS)
                for app in site['apps']]
        sites.append(dict((key, value) for key, value in dict(site, apps=apps).items() if key != 'default_site'))
    wanted = result['wanted_files'][:len(result['sites'])] + (['modwsgi-listen.conf'] if listen_files else [])
    return {'sites': sites, 'listen_ports': result['listen_ports'], 'wanted_files': wanted}


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
        # Embedded mode was removed in 0.2.0 (it is among the bad values now).
        'mode': ['daemon'],
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
        'mode': ['threaded', None, 'embedded'],
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
    assert same(legacy, comparable_merged(merged))

    new_keys = app_model.key_errors(merged, server)
    new_sets = app_model.set_errors(merged)
    # The entry_point and mode messages changed in 0.2.0: every other message is the same, in the same order.
    legacy_other, legacy_entry_points = split_messages(legacy_key_errors(legacy, server), merged, 'entry_point')
    new_other, new_entry_points = split_messages(new_keys, merged, 'entry_point')
    legacy_other, dummy = split_messages(legacy_other, merged, 'mode')
    new_other, new_modes = split_messages(new_other, merged, 'mode')
    assert legacy_other == new_other
    # The inputs have no factory call: the same entry_points are refused, each with one message.
    assert legacy_entry_points == new_entry_points
    # Only daemon remains, whatever the server's restrict_embedded.
    assert new_modes == [app_model._app_label(app) for app in merged  # pylint: disable=protected-access
                         if app['state'] == 'present' and app['mode'] != 'daemon']
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
    'daemon-options-user': {'daemon_options': {'user': 'www-data'}},
    'daemon-options-python-home': {'daemon_options': {'python-home': '/opt/other'}},
}
# The end-to-end inputs whose message 0.2.0 changed on purpose (entry_point is parsed by wsgi_entry_point, embedded
# mode is gone): the legacy Jinja's message is no longer the one, so each is written out.
E2E_CHANGED = {
    'entry-callable': ({'entry_point': 'hello'}, [
        "modwsgi_apps[0] (hello).entry_point 'hello' must be 'module:callable' (e.g. 'hello:app') or a factory call "
        "'module:factory()' / 'module:factory(<Python literals>)' (e.g. 'blog:create_app()' or "
        "'pypiserver:app(roots=[\"${MODWSGI_APP_DATA}/packages\"])'); there is no colon between the module and the "
        "callable."]),
    'mode': ({'mode': 'threaded'}, ['modwsgi_apps[0] (hello).mode must be daemon (the only mode); got "threaded".']),
    'mode-embedded': ({'mode': 'embedded'}, [
        'modwsgi_apps[0] (hello).mode: embedded mode was removed in 0.2.0; every app runs in its own daemon processes as '
        'its own user. Drop the mode key.']),
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


@pytest.mark.parametrize('case', sorted(E2E_CHANGED))
def test_end_to_end_cases_whose_message_changed(paths, case):
    changes, expected = E2E_CHANGED[case]
    apps = [dict({'name': 'hello', 'server_name': 'hello.test', 'entry_point': 'hello:app',
                  'source': {'type': 'dir', 'path': paths + '/app'}}, **changes)]
    legacy = legacy_merge(apps, {}, '/srv/modwsgi', SERVERS[1], 2, paths)
    assert legacy_key_errors(legacy, SERVERS[1]) != expected
    assert app_model.app_errors(apps, {}, '/srv/modwsgi', SERVERS[1], 2, paths) == expected


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
                    comparable_sites(app_model.sites(merged, lines, server['log_dir'], default_listen)))

    for old, new in zip(legacy, merged):
        for content_key in ('dir:0f1e2d', 'git:0123456789abcdef', 'pypi:Werkzeug>=3', 'archive:caf\u00e9'):
            assert legacy_release_id(old, content_key) == app_model.release_id(new, content_key)
        for text in rng.sample(REQUIREMENTS_TEXTS, 4):
            python_version, extra = rng.choice([('3.11', ''), ('', '--no-cache-dir')])
            fingerprint, local = legacy_venv(old, text, python_version, extra, 'dir:0f1e2d')
            if TEMPLATING_2_19:  # before 2.19 the legacy Jinja hashed other JSON (see TEMPLATING_2_19)
                assert fingerprint == app_model.venv_fingerprint(new, text, python_version, extra, 'dir:0f1e2d')
            assert local is app_model.requirements_are_local(app_model.requirement_lines(new, text))


def test_release_id_of_a_known_app_is_stable(paths):
    """A fixed value: a change here renames every release on every host."""
    app = {'source': {'subdir': ''}, 'requirements': 'requirements.txt', 'python': '/usr/bin/python3',
           'entry_point': 'hello:app', 'pre_switch': []}
    assert legacy_release_id(app, 'dir:abc') == app_model.release_id(app, 'dir:abc') == plugin.app_release_id(app, 'dir:abc')
    # The keys of 0.2.0, left empty (their defaults) or set to what does not change the release, keep the id.
    quiet = dict(app, setup=[], shared=[], files=[{'path': 'a.ini', 'content': 'x'}], default_site=True)
    assert app_model.release_id(quiet, 'dir:abc') == legacy_release_id(app, 'dir:abc')
    # setup and shared change what the release is: they join the digest when set.
    for key, value in (('setup', ['flask db upgrade']), ('shared', ['instance'])):
        assert app_model.release_id(dict(app, **{key: value}), 'dir:abc') != legacy_release_id(app, 'dir:abc')


def test_release_ids_of_merged_apps_without_the_new_keys_match_the_legacy_jinja(paths):
    apps = [{'name': 'hello', 'server_name': 'hello.test', 'entry_point': 'hello:app', 'source': {'type': 'dir', 'path': 'app'},
             'pre_switch': ['true']},
            {'name': 'api', 'server_name': 'hello.test', 'mount': '/api', 'entry_point': 'api:app',
             'source': {'type': 'pypi', 'spec': 'Werkzeug>=3'}, 'default_site': True, 'files': [{'path': 'a.ini', 'content': 'x'}]}]
    legacy = legacy_merge(apps, {}, '/srv/modwsgi', SERVERS[1], 2, paths)
    merged = app_model.merge_apps(apps, {}, '/srv/modwsgi', SERVERS[1], 2, paths)
    assert [app['setup'] for app in merged] == [[], []] and [app['shared'] for app in merged] == [[], []]
    for old, new in zip(legacy, merged):
        assert legacy_release_id(old, 'dir:abc') == app_model.release_id(new, 'dir:abc')


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
        '', '/releases', '/venvs', '/wsgi', '/cache', '/data', '/config', '/data/.modwsgi-setup')]
    assert plugin.app_directories(merged[0], 'wheel') == wanted
    assert plugin.app_directories(merged[0], 'wheel', {}) == wanted
    paths = dict((item['path'], {'type': 'directory', 'owner': item['owner'], 'group': item['group'], 'mode': item['mode'],
                                 'checksum': None, 'target': None}) for item in wanted)
    assert plugin.app_directories(merged[0], 'wheel', paths) == []
    paths['/srv/modwsgi/hello/cache'] = None
    assert plugin.app_directories(merged[0], 'wheel', paths) == [wanted[5]]
    server = {'root_group': 'wheel', 'vhost_dir': '/etc/httpd/conf.d', 'vhost_enabled_dir': ''}
    query = {
        'apps': [{'name': 'hello', 'user': 'wsgi-hello', 'group': 'wsgi-hello', 'release_marker': '.modwsgi-release',
                  'venv_marker_prefix': '.modwsgi-venv-', 'verified_marker': '.modwsgi-verified'}],
        'paths': [item['path'] for item in wanted] + ['/srv/modwsgi/hello/wsgi/hello.wsgi', '/srv/modwsgi/hello/env.json',
                                                      '/srv/modwsgi/hello/secret_env.json',
                                                      '/etc/httpd/conf.d/modwsgi-hello.test-80.conf'],
        'globs': ['/srv/modwsgi/hello/data/.modwsgi-setup/*', '/etc/httpd/conf.d/*modwsgi-*.conf'],
        'contents': ['/srv/modwsgi/hello/files.json'],
    }
    assert plugin.app_host_query(merged, server, ['modwsgi-hello.test-80.conf']) == query
    assert plugin.app_host_query(merged, server, ['modwsgi-hello.test-80.conf'], '/srv/modwsgi') == dict(
        query, globs=query['globs'] + ['/srv/modwsgi/*/.modwsgi-conf-*', '/srv/modwsgi/*/releases'])
    link = {'type': 'link', 'owner': 'root', 'group': 'root', 'mode': '0777', 'checksum': None, 'target': '../x.conf'}
    assert plugin.path_matches(link, kind='link', target='../x.conf') is True
    assert plugin.path_matches(link, 'link', None, 'root', 'root', '0777', '../x.conf') is True
    assert plugin.path_matches(link, kind='file') is False
    assert plugin.path_matches(None, kind='link') is False
    assert plugin.app_rejected_config({'failed': True, 'msg': 'failed to validate', 'stderr': 'AH00526:\n  Bad'}) == (
        "A Listen file failed Apache's configuration check and was not written; the live configuration and the "
        "serving releases are unchanged. Apache said: AH00526: Bad -- check the extra_directives, tls and static "
        "settings of the apps on that host name.")
    assert plugin.app_rejected_config({'failed': True, 'listen': {'port': 81, 'file': 'modwsgi-listen-81.conf'},
                                       'stderr': 'AH00526: Bad'}).startswith('modwsgi-listen-81.conf failed')


def test_new_filters_fail_naming_themselves():
    with pytest.raises(AnsibleFilterError, match="^app_directories: _dir$"):
        plugin.app_directories({'name': 'hello'}, 'root')
    with pytest.raises(AnsibleFilterError, match="^app_host_query: user$"):
        plugin.app_host_query([{'name': 'hello'}], {}, [])
    with pytest.raises(AnsibleFilterError, match="^app_prune_plan: _dir$"):
        plugin.app_prune_plan({'name': 'hello'}, {'releases': {}, 'venvs': {}}, {'release': 'x', 'current_link': 'releases/x'})


def test_config_plan_runtime_and_expand_through_the_filter_module(paths):
    filters = plugin.FilterModule().filters()
    apps = [{'name': 'hello', 'server_name': 'hello.test', 'entry_point': 'hello:app', 'source': {'type': 'dir', 'path': 'app'},
             'env': {'DB': '${MODWSGI_APP_DATA}/db.sqlite'}, 'secret_env': {'TOKEN': 's3cret'},
             'setup': ['touch ${MODWSGI_APP_DATA}/ready', 'flask db upgrade'], 'pre_switch': ['ls ${MODWSGI_APP_RELEASE}'],
             'port': 8080},
            {'name': 'old', 'state': 'absent', 'server_name': 'old.test'}]
    merged = filters['app_merge'](apps, {}, '/srv/modwsgi', {}, 2, paths)
    sites = filters['app_sites'](merged, filters['app_daemon_lines'](merged, '5.0.2'), '/logs', [80])
    server = {'root_group': 'root', 'vhost_dir': '/etc/apache2/sites-available', 'vhost_enabled_dir': '/etc/apache2/sites-enabled'}
    available = '/etc/apache2/sites-available/'
    globs = {
        '/srv/modwsgi/*/releases': ['/srv/modwsgi/blog/releases', '/srv/modwsgi/hello/releases', '/srv/modwsgi/old/releases'],
        '/srv/modwsgi/*/.modwsgi-conf-*': ['/srv/modwsgi/blog/.modwsgi-conf-modwsgi-blog.test-80.conf'],
        available + '*modwsgi-*.conf': [available + name for name in (
            'modwsgi-blog.test-80.conf', 'modwsgi-hello.test-8080.conf', 'modwsgi-listen.conf', 'modwsgi-old.test-80.conf',
            'modwsgi-x.conf')],
        '/etc/apache2/sites-enabled/*modwsgi-*.conf': [],
    }
    plan = filters['app_config_plan'](merged, sites, server, '/srv/modwsgi', globs)
    assert plan == app_model.config_plan(merged, sites, server, '/srv/modwsgi', globs, False)
    assert plan == {
        'unlisted': ['blog'], 'purge': [],
        'remove': [available + 'modwsgi-listen.conf', available + 'modwsgi-old.test-80.conf'],
        'conflicts': [],
        'write_markers': ['/srv/modwsgi/hello/.modwsgi-conf-modwsgi-hello.test-8080.conf',
                          '/srv/modwsgi/hello/.modwsgi-conf-modwsgi-listen-8080.conf'],
        'remove_markers': [], 'unowned': [available + 'modwsgi-x.conf']}
    purged = filters['app_config_plan'](merged, sites, server, '/srv/modwsgi', globs, True)
    assert purged == dict(plan, purge=['blog'], remove=sorted(plan['remove'] + [available + 'modwsgi-blog.test-80.conf']))

    records = [merged[0]['_setup_records'] + '/' + app_model.setup_id('flask db upgrade')]
    runtime = filters['app_runtime'](merged[0])
    assert runtime == app_model.runtime(merged[0]) and type(runtime) is dict  # pylint: disable=unidiomatic-typecheck
    assert runtime['env']['DB'] == '/srv/modwsgi/hello/data/db.sqlite' and 'TOKEN' not in runtime['env']
    assert [item['written'] for item in runtime['setup_pending']] == ['touch ${MODWSGI_APP_DATA}/ready', 'flask db upgrade']
    building = filters['app_runtime'](merged[0], '/srv/modwsgi/hello/releases/abc/src', records)
    assert building == app_model.runtime(merged[0], '/srv/modwsgi/hello/releases/abc/src', records)
    assert building['pre_switch'] == ['ls /srv/modwsgi/hello/releases/abc/src']
    assert [item['command'] for item in building['setup_pending']] == ['touch /srv/modwsgi/hello/data/ready']

    assert filters['app_expand']('db = ${MODWSGI_APP_DATA}/db.sqlite # ${HOME}', merged[0]) == (
        'db = /srv/modwsgi/hello/data/db.sqlite # ${HOME}')
    assert filters['app_expand'](['${MODWSGI_APP_RELEASE}', {'a': '${MODWSGI_APP_CONFIG}'}, 5], merged[0]) == [
        '/srv/modwsgi/hello/current/src', {'a': '/srv/modwsgi/hello/config'}, 5]
    assert filters['app_expand']('${MODWSGI_APP_RELEASE}', merged[0], '/r/src') == '/r/src'
    assert filters['app_expand']('${MODWSGI_APP_RELEASE}', merged[0], None) == '/srv/modwsgi/hello/current/src'


def test_config_plan_runtime_and_expand_fail_naming_themselves():
    with pytest.raises(AnsibleFilterError, match="^app_config_plan: file$"):
        plugin.app_config_plan([], {'sites': [{'apps': []}]}, {}, '/srv/modwsgi', {})
    with pytest.raises(AnsibleFilterError, match="^app_runtime: name$"):
        plugin.app_runtime({}, None, [])
    with pytest.raises(AnsibleFilterError, match="^app_expand: _dir$"):
        plugin.app_expand('${MODWSGI_APP}', {'name': 'hello'})


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
        env: {GREETING: "{{ greeting }}", DB: "${MODWSGI_APP_DATA}/db.sqlite"}
        secret_env: {TOKEN: "{{ 'sec' ~ 'ret' }}"}
        static: [{url: /static, path: hello/static}]
        tls: {cert: /etc/ssl/certs/hello.pem, key: /etc/ssl/private/hello.key}
        keep_releases: 1
        setup: ["touch ${MODWSGI_APP_DATA}/ready"]
        files: [{path: settings.ini, content: "db = ${MODWSGI_APP_DATA}/db.sqlite\n"}]
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
    query: "{{ apps | modwsgi.deploy.app_host_query(server, sites.wanted_files, root) }}"
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
        contents: "{{ query.contents }}"
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
              'host': {'apps': host.apps, 'paths': host.paths, 'globs': host.globs, 'contents': host.contents},
              'plan': apps | modwsgi.deploy.app_config_plan(sites, server, root, host.globs),
              'purge': apps | modwsgi.deploy.app_config_plan(sites, server, root, host.globs, true),
              'runtime': apps[0] | modwsgi.deploy.app_runtime(none, host.globs[apps[0]._setup_records ~ '/*']),
              'runtime_release': apps[0] | modwsgi.deploy.app_runtime('/new/src', ['/x/' ~ (apps[0].setup[0] | hash('sha1'))]),
              'expand': ['${MODWSGI_APP_DATA}/x ${HOME} $MODWSGI_APP', {'k': '${MODWSGI_APP_CONFIG}'}]
                        | modwsgi.deploy.app_expand(apps[0]),
              'expand_release': '${MODWSGI_APP_RELEASE}' | modwsgi.deploy.app_expand(apps[0], '/new/src'),
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
    # blog, deployed by another playbook, with its marked site file; the Listen file of 0.1.0.
    blog = base / 'srv' / 'blog'
    (blog / 'releases').mkdir(parents=True)
    (blog / '.modwsgi-conf-modwsgi-blog.test-80.conf').write_text('')
    (base / 'sites-available' / 'modwsgi-blog.test-80.conf').write_text('# blog\n')
    (base / 'sites-available' / 'modwsgi-listen.conf').write_text('Listen 443\n')


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
    assert apps[0]['env'] == {'GREETING': 'Bonjour', 'DB': '${MODWSGI_APP_DATA}/db.sqlite'}
    assert apps[0]['secret_env'] == {'TOKEN': 'secret'}
    assert apps[0]['source']['path'] == str(tmp_path / 'app')
    assert apps[0]['processes'] == 4
    assert apps[0]['_dir'] == root + '/hello'
    plain = yaml.safe_load(PLAY)[0]['vars']
    plain['modwsgi_apps'][0]['env'] = {'GREETING': 'Bonjour', 'DB': '${MODWSGI_APP_DATA}/db.sqlite'}
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
    assert sites['wanted_files'] == ['modwsgi-hello.test-80.conf', 'modwsgi-listen-443.conf']
    assert sites['owners'] == {'modwsgi-hello.test-80.conf': ['hello', 'api'], 'modwsgi-listen-443.conf': ['hello', 'api']}
    assert result['release'] == app_model.release_id(apps[0], 'dir:abc')
    assert result['venv'] == app_model.venv_fingerprint(apps[0], 'flask\n', '3.11', '', 'dir:abc')
    assert result['local'] is True

    # What the role reads from the host, read by modwsgi.deploy.host_state.
    available, enabled = str(base / 'sites-available'), str(base / 'sites-enabled')
    markers = {'release_marker': '.modwsgi-release', 'venv_marker_prefix': '.modwsgi-venv-', 'verified_marker': '.modwsgi-verified'}
    owned = ['', '/releases', '/venvs', '/wsgi', '/cache', '/data', '/config', '/data/.modwsgi-setup', '/wsgi/%s.wsgi',
             '/env.json', '/secret_env.json']
    app_paths = [root + '/' + name + (sub % name if '%s' in sub else sub) for name in ('hello', 'api') for sub in owned]
    app_paths.insert(len(owned), root + '/hello/config/settings.ini')
    vhost_paths = [available + '/modwsgi-hello.test-80.conf', enabled + '/modwsgi-hello.test-80.conf',
                   available + '/modwsgi-listen-443.conf', enabled + '/modwsgi-listen-443.conf']
    records = [root + '/hello/data/.modwsgi-setup/*', root + '/api/data/.modwsgi-setup/*']
    assert result['query'] == {
        'apps': [dict({'name': name, 'user': 'wsgi-' + name, 'group': 'wsgi-' + name}, **markers) for name in ('hello', 'api', 'gone')],
        'paths': [root] + app_paths + vhost_paths,
        'globs': records + [available + '/*modwsgi-*.conf', enabled + '/*modwsgi-*.conf', root + '/*/.modwsgi-conf-*',
                            root + '/*/releases'],
        'contents': [root + '/hello/files.json', root + '/api/files.json'],
    }
    host = result['host']
    assert sorted(host['apps']) == ['api', 'gone', 'hello']
    # Who owns each release is host_state's own test (test_host_state.py); here the rest.
    releases = dict((key, dict((name, item) for name, item in value.items() if name not in ('owner', 'group', 'mode')))
                    for key, value in host['apps']['hello']['releases'].items())
    assert releases == {
        'aaaa': {'complete': True, 'verified': False, 'mtime': 1000.0, 'venv': 'v1'},
        'bbbb': {'complete': True, 'verified': False, 'mtime': 2000.0, 'venv': 'v2'},
        'cccc': {'complete': True, 'verified': False, 'mtime': 3000.0, 'venv': 'v2'},
        'dddd': {'complete': False, 'verified': False, 'mtime': os.stat(str(base / 'srv/hello/releases/dddd')).st_mtime,
                 'venv': None},
    }
    assert host['globs'] == {
        records[0]: [],
        records[1]: [],
        available + '/*modwsgi-*.conf': [available + '/modwsgi-blog.test-80.conf', available + '/modwsgi-hello.test-80.conf',
                                         available + '/modwsgi-listen.conf', available + '/modwsgi-old.test-80.conf'],
        enabled + '/*modwsgi-*.conf': [enabled + '/modwsgi-hello.test-80.conf', enabled + '/modwsgi-old.test-80.conf'],
        root + '/*/.modwsgi-conf-*': [root + '/blog/.modwsgi-conf-modwsgi-blog.test-80.conf'],
        root + '/*/releases': [root + '/blog/releases', root + '/hello/releases'],
    }
    assert host['contents'] == {root + '/hello/files.json': None, root + '/api/files.json': None}
    assert sorted(host['paths']) == sorted(result['query']['paths'])

    # blog (another playbook's) and its site file are left alone, the Listen file of 0.1.0 goes (modwsgi-listen-443.conf
    # replaces it), modwsgi-old.test-80.conf, which no marker names, stays; each file this run wants gets its markers.
    plan = {
        'unlisted': ['blog'],
        'purge': [],
        'remove': [available + '/modwsgi-listen.conf'],
        'conflicts': [],
        'write_markers': [root + '/' + name + '/.modwsgi-conf-' + file for name in ('api', 'hello')
                          for file in ('modwsgi-hello.test-80.conf', 'modwsgi-listen-443.conf')],
        'remove_markers': [],
        'unowned': [available + '/modwsgi-old.test-80.conf', enabled + '/modwsgi-old.test-80.conf'],
    }
    assert result['plan'] == plan
    assert result['plan'] == app_model.config_plan(apps, sites, server, root, host['globs'])
    assert result['purge'] == dict(plan, purge=['blog'], remove=[available + '/modwsgi-blog.test-80.conf'] + plan['remove'])
    data = root + '/hello/data'
    assert result['runtime'] == app_model.runtime(apps[0], None, [])
    assert result['runtime']['env'] == {
        'GREETING': 'Bonjour', 'DB': data + '/db.sqlite', 'MODWSGI_APP': 'hello', 'MODWSGI_APP_ROOT': root + '/hello',
        'MODWSGI_APP_DATA': data, 'MODWSGI_APP_CONFIG': root + '/hello/config',
        'MODWSGI_APP_RELEASE': root + '/hello/current/src'}
    setup_id = app_model.setup_id('touch ${MODWSGI_APP_DATA}/ready')
    assert result['runtime']['setup'] == result['runtime']['setup_pending'] == [
        {'id': setup_id, 'command': 'touch ' + data + '/ready', 'written': 'touch ${MODWSGI_APP_DATA}/ready'}]
    assert result['runtime_release']['directories']['MODWSGI_APP_RELEASE'] == '/new/src'
    assert result['runtime_release']['setup_pending'] == [] and result['runtime_release']['setup'][0]['id'] == setup_id
    assert result['expand'] == [data + '/x ${HOME} $MODWSGI_APP', {'k': root + '/hello/config'}]
    assert result['expand_release'] == '/new/src'

    # Kept: eeee (this run's, built after the read: the newest) and cccc (previous); v4 is eeee's.
    assert result['prune'] == {
        'releases': [root + '/hello/releases/' + rid for rid in ('aaaa', 'bbbb', 'dddd')],
        'venvs': [root + '/hello/venvs/' + fingerprint for fingerprint in ('v1', 'v3')],
    }
    wanted = [{'path': root, 'owner': 'root', 'group': group, 'mode': '0755'}] + [
        {'path': root + '/hello' + sub, 'owner': 'root', 'group': group, 'mode': mode}
        for sub, mode in (('', '0755'), ('/releases', '0755'), ('/venvs', '0755'), ('/wsgi', '0755'), ('/cache', '0700'))] + [
        {'path': root + '/hello/data', 'owner': 'wsgi-hello', 'group': 'wsgi-hello', 'mode': '0750'},
        {'path': root + '/hello/config', 'owner': 'root', 'group': 'wsgi-hello', 'mode': '0750'},
        {'path': root + '/hello/data/.modwsgi-setup', 'owner': 'root', 'group': group, 'mode': '0755'}]
    assert result['directories'] == wanted
    # hello is 0700, wsgi, cache, data, config and the setup records are missing; the rest is right when root owns it.
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
                # The title line before ansible-core 2.17: `> MODWSGI.DEPLOY.NAME    (path)`.
                assert ('> FILTER %s ' % name if ANSIBLE_CORE >= (2, 17) else '> %s ' % name.upper()) in proc.stdout
