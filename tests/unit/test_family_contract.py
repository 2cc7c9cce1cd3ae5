# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The families that cannot run here, against their real packaging.

For each family the server role's vars are rendered as the role renders them on
such a host. Every package it would install must be one the packaging defines,
and every command it runs and every file or directory it reads, writes or
includes must be shipped by one of those packages (or by the base system). The
file lists are fixtures taken from the packaging itself (RPM spec %files,
openSUSE's spec, FreeBSD's pkg-plist, pkgsrc's PLIST), each with its source:
tests/unit/fixtures/packaging/<family>.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pathlib

import pytest
import yaml

from ansible_collections.modwsgi.deploy.tests.unit.role_vars import RoleVars

FIXTURES = pathlib.Path(__file__).resolve().parent / 'fixtures' / 'packaging'

# What Ansible's facts say on a host of each family (Python as the packages the role installs).
HOSTS = {
    'RedHat': {'os_family': 'RedHat', 'distribution': 'Rocky', 'distribution_major_version': '9',
               'python': {'version': {'major': 3, 'minor': 9}, 'executable': '/usr/bin/python3'}},
    'Suse': {'os_family': 'Suse', 'distribution': 'openSUSE Tumbleweed', 'distribution_major_version': '20250101',
             'python': {'version': {'major': 3, 'minor': 13}, 'executable': '/usr/bin/python3'}},
    'FreeBSD': {'os_family': 'FreeBSD', 'distribution': 'FreeBSD', 'distribution_major_version': '14',
                'python': {'version': {'major': 3, 'minor': 11}, 'executable': '/usr/local/bin/python3.11'}},
    'pkgsrc': {'os_family': 'NetBSD', 'distribution': 'NetBSD', 'distribution_major_version': '10',
               'python': {'version': {'major': 3, 'minor': 11}, 'executable': '/usr/pkg/bin/python3.11'}},
}


def Family(family, **overrides):
    """The server role's variables as they render on one family's host."""
    return RoleVars('server/defaults/main.yml', 'server/vars/main.yml', 'server/vars/%s.yml' % family,
                    __modwsgi_family=family, ansible_facts=HOSTS[family], **overrides)


def packaging(family):
    return yaml.safe_load((FIXTURES / ('%s.yml' % family)).read_text())


def installed(fixture, names):
    """The packages the role names, with what each requires, as the fixture knows them."""
    seen = []
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.append(name)
        todo.extend(fixture['packages'][name].get('requires', []))
    return seen


def shipped(fixture, packages):
    files = set(fixture.get('base', {}).get('files', []))
    for name in packages:
        files.update(fixture['packages'][name].get('files', []))
    return files


def provided(path, files):
    """A file is shipped when listed; a directory also when something under it is."""
    path = path.rstrip('/')
    return path in files or any(item.startswith(path + '/') for item in files)


def role_packages(family, method):
    variables = Family(family, modwsgi_install_method=method)
    selinux = variables['__modwsgi_selinux_packages']
    return variables['__modwsgi_wanted_packages'] + selinux


def wanted_paths(family, method):
    """(what, path) the role runs, reads, writes or includes on the family."""
    variables = Family(family, modwsgi_install_method=method)
    paths = [
        ('apachectl', variables['__modwsgi_apachectl']),
        ('httpd.conf', variables['__modwsgi_httpd_conf']),
        ('directory of the LoadModule file', variables['__modwsgi_load_file'].rsplit('/', 1)[0]),
        ('directory of the server settings', variables['__modwsgi_server_conf'].rsplit('/', 1)[0]),
        ('virtual host directory', variables['__modwsgi_vhost_dir']),
        ('log directory', variables['__modwsgi_log_dir']),
        ('default Python', variables['__modwsgi_default_python']),
        ('nologin', variables['__modwsgi_nologin']),
        ('MPM configuration', variables['__modwsgi_mpm_conf']),
    ]
    if method == 'package':
        paths.append(('mod_wsgi', variables['__modwsgi_module_file']))
    else:
        paths.append(('apxs', variables['__modwsgi_apxs']))
    if variables['__modwsgi_mpm_module_dir']:
        paths.append(('MPM modules', variables['__modwsgi_server_root'] + '/' + variables['__modwsgi_mpm_module_dir']))
    if variables['__modwsgi_selinux_packages']:
        paths.append(('restorecon', '/usr/sbin/restorecon'))
    if variables['__modwsgi_package_load'] == 'a2enmod' or variables['__modwsgi_ssl_method'] == 'a2enmod':
        paths.append(('a2enmod', '/usr/sbin/a2enmod'))
    if variables['__modwsgi_package_load'] == 'uncomment' and method == 'package':
        paths.append(("the package's LoadModule file", variables['__modwsgi_package_load_file']))
    if variables['__modwsgi_server_flags_file']:
        paths.extend([('server flags', variables['__modwsgi_server_flags_file']), ('a2enflag', '/usr/sbin/a2enflag')])
    if variables['__modwsgi_rcd_script_example']:
        paths.append(('rc.d script', variables['__modwsgi_rcd_script_example']))
    return paths


CASES = [(family, method) for family in sorted(HOSTS) for method in ('package', 'pip')]


@pytest.mark.parametrize('family,method', CASES)
def test_every_package_the_role_installs_exists(family, method):
    fixture = packaging(family)
    missing = [name for name in role_packages(family, method) if name not in fixture['packages']]
    assert not missing, '%s (%s): no such package in the packaging: %s' % (family, method, missing)


@pytest.mark.parametrize('family,method', CASES)
def test_every_path_the_role_uses_is_shipped(family, method):
    fixture = packaging(family)
    # Directories no package ships, which the role makes itself (tasks/configure.yml).
    files = shipped(fixture, installed(fixture, role_packages(family, method))) | set(Family(family)['__modwsgi_own_dirs'])
    missing = [(what, path) for what, path in wanted_paths(family, method) if not provided(path, files)]
    assert not missing, '%s (%s): not shipped by the packages the role installs: %s' % (family, method, missing)


@pytest.mark.parametrize('family', sorted(HOSTS))
def test_each_fixture_names_its_sources(family):
    fixture = packaging(family)
    for name, package in fixture['packages'].items():
        assert package.get('source'), name
    if fixture.get('base'):
        assert fixture['base'].get('source')


def test_a_wrong_path_is_caught():
    # The check itself: a path no package ships is reported.
    fixture = packaging('RedHat')
    files = shipped(fixture, installed(fixture, role_packages('RedHat', 'package')))
    assert not provided('/usr/sbin/apache2ctl', files)
    assert provided('/usr/sbin/apachectl', files)


def _packaged_python(family, target, built_for):
    variables = Family(family)
    facts = dict(HOSTS[family], modwsgi_info={'mod_wsgi': {'python_version': built_for}})
    default = variables['__modwsgi_default_python']
    variables.override(ansible_facts=facts,
                       __modwsgi_server_host={'paths': {default: {'type': 'link', 'target': target} if target else None}})
    return variables['__modwsgi_packaged_python']


def test_apps_default_to_the_python_mod_wsgi_was_built_for():
    # EL 9: python3 is 3.9; python3.11-mod_wsgi is built for 3.11.
    assert _packaged_python('RedHat', 'python3.9', '3.11') == '/usr/bin/python3.11'
    assert _packaged_python('RedHat', 'python3.9', '3.9') == '/usr/bin/python3'
    # Not a link, or not read yet: the family's python3.
    assert _packaged_python('RedHat', None, '3.11') == '/usr/bin/python3'
    assert _packaged_python('Suse', 'python3.13', '') == '/usr/bin/python3'


@pytest.mark.parametrize('family,python,headers', [
    ('RedHat', '/usr/bin/python3', 'python3-devel'),
    ('RedHat', '/usr/bin/python3.11', 'python3.11-devel'),
    ('Suse', '/usr/bin/python3', 'python3-devel'),
    ('Suse', '/usr/bin/python3.11', 'python311-devel'),
])
def test_the_pip_method_installs_the_headers_of_its_python(family, python, headers):
    variables = Family(family, modwsgi_install_method='pip', modwsgi_python=python)
    assert headers in variables['__modwsgi_wanted_packages']


def test_a_python_outside_usr_bin_brings_its_own_headers():
    variables = Family('RedHat', modwsgi_install_method='pip', modwsgi_python='/usr/local/bin/python3.13')
    assert not [name for name in variables['__modwsgi_wanted_packages'] if name.endswith('-devel') and 'python' in name]
