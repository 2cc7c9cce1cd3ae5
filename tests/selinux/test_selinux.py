# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SELinux, offline: the roles' file-context rules against a real policy.

The rules come from the roles' vars, rendered as the roles render them, in the
order they add them. Every path class the roles write is resolved through
libselinux with Debian's compiled reference policy plus those rules, and
setools says whether httpd_t may do with the resulting type what that class
needs, under the policy's default booleans plus the server role's
modwsgi_selinux_booleans. Fedora's policy differs in names and defaults; its
rules are a fixture (fixtures/fedora_apache.yml) checked the same way.

Runs check_policy.py in modwsgi-test/selinux:13 (build-image.sh).
"""

import json
import pathlib
import subprocess

import pytest
import yaml

from ansible_collections.modwsgi.deploy.plugins.module_utils import app_model
from ansible_collections.modwsgi.deploy.tests.unit.role_vars import RoleVars

HERE = pathlib.Path(__file__).resolve().parent
ROLES = HERE.parents[1] / 'roles'
IMAGE = 'modwsgi-test/selinux:13'

# What httpd_t must be allowed, by what a path is to Apache.
NEEDS = {
    'read': {'dir': {'getattr', 'search', 'open', 'read'}, 'file': {'getattr', 'open', 'read'}},
    'follow': {'lnk_file': {'getattr', 'read'}},
    'write': {'dir': {'getattr', 'search', 'open', 'read', 'write', 'add_name', 'remove_name', 'create'},
              'file': {'getattr', 'open', 'read', 'write', 'append', 'create', 'unlink', 'rename', 'setattr'}},
    'load': {'file': {'getattr', 'open', 'read', 'map', 'execute'}},
}


def _yaml(path):
    return yaml.safe_load(path.read_text())


def app_rules(root=None):
    overrides = {'modwsgi_app_root': root} if root else {}
    return RoleVars('app/defaults/main.yml', 'app/vars/main.yml', **overrides)['__modwsgi_app_selinux_fcontexts']


def server_rules():
    return RoleVars('server/defaults/main.yml', 'server/vars/main.yml')['__modwsgi_selinux_fcontexts']


def role_booleans():
    return _yaml(ROLES / 'server' / 'defaults' / 'main.yml')['modwsgi_selinux_booleans']


def sample_app(root):
    """The paths the app role writes for one app with a config file, from its own model."""
    app = app_model.merge_apps([{'name': 'hello', 'server_name': 'hello.test', 'entry_point': 'hello:app',
                                 'source': {'type': 'pypi', 'spec': 'hello'},
                                 'files': [{'path': 'app.ini', 'content': '[app]\n'}]}],
                               {}, root, server={'python': '/usr/bin/python3'})[0]
    release = app['_releases'] + '/0123456789ab'
    venv = app['_venvs'] + '/0123456789ab'
    site = venv + '/lib/python3.13/site-packages'
    return [
        # (what, path, kind, type the roles mean it to have, what Apache does with it)
        ('app directory', app['_dir'], 'dir', 'httpd_sys_content_t', 'read'),
        ('release directory', release + '/src', 'dir', 'httpd_sys_content_t', 'read'),
        ('code', release + '/src/hello/__init__.py', 'file', 'httpd_sys_content_t', 'read'),
        ('current link', app['_current'], 'link', 'httpd_sys_content_t', 'follow'),
        ('.wsgi file', app['_wsgi_file'], 'file', 'httpd_sys_content_t', 'read'),
        ('environment file', app['_env_file'], 'file', 'httpd_sys_content_t', 'read'),
        ('secret environment file', app['_secret_file'], 'file', 'httpd_sys_content_t', 'read'),
        ('config file', app['_files'][0]['path'], 'file', 'httpd_sys_content_t', 'read'),
        ('data directory', app['_data'], 'dir', 'httpd_sys_rw_content_t', 'write'),
        ('data file', app['_data'] + '/instance/app.sqlite', 'file', 'httpd_sys_rw_content_t', 'write'),
        ('setup record', app['_setup_records'] + '/0123', 'file', 'httpd_sys_rw_content_t', 'write'),
        ('virtualenv module', site + '/flask/__init__.py', 'file', 'httpd_sys_content_t', 'read'),
        ('virtualenv package directory', site + '/markupsafe', 'dir', 'httpd_sys_content_t', 'read'),
        ('C extension', site + '/markupsafe/_speedups.cpython-313-x86_64-linux-gnu.so', 'file', 'lib_t', 'load'),
        ('bundled library', site + '/numpy.libs/libgfortran-040039e1.so.5.0.0', 'file', 'lib_t', 'load'),
    ]


def sample_pip():
    root = _yaml(ROLES / 'server' / 'defaults' / 'main.yml')['modwsgi_pip_venv_root'] + '/py3.13'
    package = root + '/lib/python3.13/site-packages/mod_wsgi'
    return [
        ('pip-built mod_wsgi', package + '/server/mod_wsgi-py313.cpython-313-x86_64-linux-gnu.so', 'file', 'lib_t', 'load'),
        ('mod_wsgi Python home', package + '/__init__.py', 'file', 'httpd_sys_content_t', 'read'),
        ('pip virtualenv directory', root + '/lib', 'dir', 'httpd_sys_content_t', 'read'),
    ]


def ask_policy(request):
    proc = subprocess.run(['docker', 'run', '--rm', '-i', '-v', '%s:/check:ro' % HERE, IMAGE,
                           'python3', '/check/check_policy.py'],
                          input=json.dumps(request), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def allow_requests(samples):
    return [{'source': 'httpd_t', 'target': want, 'class': tclass}
            for _what, _path, _kind, want, use in samples for tclass in sorted(NEEDS[use])]


def lookup_kind(kind):
    return 'file' if kind == 'link' else kind


@pytest.fixture(scope='module')
def debian():
    samples = sample_app('/srv/modwsgi') + sample_pip()
    request = {
        'rules': server_rules() + app_rules(),
        'lookups': [{'path': path, 'kind': lookup_kind(kind)} for _what, path, kind, _want, _use in samples],
        'allow': allow_requests(samples) + [
            {'source': 'httpd_t', 'target': 'var_t', 'class': 'file'},
            {'source': 'httpd_t', 'target': 'httpd_var_run_t', 'class': 'sock_file'}],
        'transitions': [{'source': 'httpd_t', 'target': 'var_run_t', 'class': 'sock_file'}],
        'booleans': role_booleans(),
        'types': ['httpd_var_run_t'],
    }
    return samples, ask_policy(request)


def test_rules_are_general_first():
    # Among local rules libselinux takes the last that matches: a narrower rule
    # after the general one, never before it.
    for rules in (app_rules(), server_rules()):
        assert rules[0]['target'].endswith('(/.*)?')
        assert rules[0]['setype'] == 'httpd_sys_content_t'
        assert all(rule['target'].startswith(rules[0]['target'][:-len('(/.*)?')] + '/') for rule in rules[1:])


def test_every_path_gets_its_type(debian):
    samples, answer = debian
    found = dict((what, got) for (what, _path, _kind, _want, _use), got in zip(samples, answer['lookups']))
    wanted = dict((what, want) for what, _path, _kind, want, _use in samples)
    assert found == wanted


def test_apache_may_use_each_type_as_needed(debian):
    samples, answer = debian
    requests = allow_requests(samples)
    for request, perms in zip(requests, answer['allow']):
        use = [sample[4] for sample in samples if sample[3] == request['target']]
        needed = set().union(*(NEEDS[u].get(request['class'], set()) for u in use))
        assert needed <= set(perms), (request, sorted(needed - set(perms)))


def test_without_the_rules_apache_could_not_read_the_tree(debian):
    # /srv is var_t in the policy; httpd_t may not read var_t files.
    _samples, answer = debian
    var_t = answer['allow'][len(allow_requests(_samples))]
    assert 'read' not in var_t


def test_daemon_sockets_get_a_type_apache_manages(debian):
    # WSGISocketPrefix /var/run/wsgi: sockets named wsgi.<pid>.<n>.<n>.sock directly in /run.
    _samples, answer = debian
    run_type = answer['types']['httpd_var_run_t']
    assert answer['transitions'][0] == [run_type]
    assert {'create', 'write', 'unlink'} <= set(answer['allow'][len(allow_requests(_samples)) + 1])


def test_the_booleans_the_role_sets_are_needed(debian):
    # Debian's reference policy ships httpd_builtin_scripting off; without the
    # role's value, Apache could not write the data directory.
    _samples, answer = debian
    assert answer['default_booleans']['httpd_builtin_scripting'] is False
    assert role_booleans()['httpd_builtin_scripting'] is True


def test_a_custom_root_is_escaped():
    root = '/srv/apps.v2+x/'
    samples = [sample for sample in sample_app(root.rstrip('/')) if sample[0] in ('code', 'data file', 'C extension')]
    decoy = ('decoy', '/srv/appsXv2xx/hello/releases/0123456789ab/src/hello.py', 'file', 'var_t', 'read')
    answer = ask_policy({'rules': app_rules(root), 'lookups': [
        {'path': path, 'kind': lookup_kind(kind)} for _what, path, kind, _want, _use in samples + [decoy]]})
    assert answer['lookups'] == [want for _what, _path, _kind, want, _use in samples + [decoy]]


FEDORA = _yaml(HERE / 'fixtures' / 'fedora_apache.yml')


def _fedora_grants(target, tclass):
    booleans = dict(FEDORA['booleans'], **role_booleans())
    perms = set()
    for rule in FEDORA['allow']:
        if rule['source'] in ('httpd_t', 'domain') and rule['target'] == target and rule['class'] == tclass \
                and all(booleans.get(name) for name in rule.get('when', [])):
            perms.update(rule['perms'])
    return perms


@pytest.mark.parametrize('what,path,kind,want,use', sample_app('/srv/modwsgi') + sample_pip(),
                         ids=lambda value: value if isinstance(value, str) and ' ' in value else None)
def test_fedora_lets_apache_use_each_type(what, path, kind, want, use):
    assert want in FEDORA['types']
    for tclass, needed in NEEDS[use].items():
        assert needed <= _fedora_grants(want, tclass), (what, tclass, sorted(needed - _fedora_grants(want, tclass)))


def test_fedora_daemon_sockets():
    transition = [rule for rule in FEDORA['transitions']
                  if (rule['source'], rule['target'], rule['class']) == ('httpd_t', 'var_run_t', 'sock_file')]
    assert [rule['default'] for rule in transition] == ['httpd_var_run_t']
    assert {'create', 'write', 'unlink'} <= _fedora_grants('httpd_var_run_t', 'sock_file')
