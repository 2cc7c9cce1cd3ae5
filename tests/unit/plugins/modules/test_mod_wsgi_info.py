# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.modwsgi.deploy.plugins.modules import mod_wsgi_info
from ansible_collections.modwsgi.deploy.tests.unit.plugins.modules.module_harness import (
    AnsibleExitJson, AnsibleFailJson, run_main)


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')


def fixture_text(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def fake_so(version=None, libpython=None, banner=None):
    """Bytes looking enough like a mod_wsgi shared object for the module's scanners."""
    data = b'\x7fELF\x02\x01\x01\x00' + b'\x00' * 56
    data += b'\x00libc.so.6\x00libapr-1.so.0\x00'
    if libpython:
        data += b'\x00' + to_bytes(libpython) + b'\x00'
    data += b'\x00' * 32 + b'wsgi_module\x00python_init\x00wsgi_init\x00'
    if version:
        data += to_bytes(version) + b'\x00'
    data += b'mod_wsgi/%s\x00Python/%d.%d\x00check_password\x00'
    if banner:
        data += to_bytes(banner) + b'\x00'
    return data + b'\x00' * 64


# ---------------------------------------------------------------------------
# parse_version_output
# ---------------------------------------------------------------------------

def test_parse_version_debian13():
    info = mod_wsgi_info.parse_version_output(fixture_text('debian13_apache2ctl_V.txt'))
    assert info == {
        'version': '2.4.68',
        'mpm': 'event',
        'httpd_root': '/etc/apache2',
        'server_config_file': 'apache2.conf',
    }


def test_parse_version_debian12():
    info = mod_wsgi_info.parse_version_output(fixture_text('debian12_apache2ctl_V.txt'))
    assert info['version'] == '2.4.62'
    assert info['mpm'] == 'event'
    assert info['httpd_root'] == '/etc/apache2'


def test_parse_version_rocky():
    info = mod_wsgi_info.parse_version_output(fixture_text('rocky9_httpd_V.txt'))
    assert info == {
        'version': '2.4.62',
        'mpm': 'event',
        'httpd_root': '/etc/httpd',
        'server_config_file': 'conf/httpd.conf',
    }


def test_parse_version_debian_binary_without_envvars_has_no_mpm():
    # apache2 -V without /etc/apache2/envvars cannot load the config: the MPM line is empty and
    # the regex must not pick up the next line ("Server compiled with....").
    info = mod_wsgi_info.parse_version_output(fixture_text('debian13_apache2_V_without_envvars.txt'))
    assert info['version'] == '2.4.68'
    assert info['mpm'] is None


def test_parse_version_other_mpms_and_garbage():
    text = 'Server version: Apache/2.4.58 (Ubuntu)\nServer MPM:     Prefork\n'
    assert mod_wsgi_info.parse_version_output(text)['version'] == '2.4.58'
    assert mod_wsgi_info.parse_version_output(text)['mpm'] == 'prefork'
    assert mod_wsgi_info.parse_version_output('') == {
        'version': None, 'mpm': None, 'httpd_root': None, 'server_config_file': None}
    assert mod_wsgi_info.parse_version_output(None)['version'] is None
    assert mod_wsgi_info.parse_version_output('apache2: command not found')['version'] is None


# ---------------------------------------------------------------------------
# parse_includes / parse_loaded_modules
# ---------------------------------------------------------------------------

def test_parse_includes_debian13():
    files = mod_wsgi_info.parse_includes(fixture_text('debian13_dump_includes.txt'))
    assert files[0] == '/etc/apache2/apache2.conf'
    assert '/etc/apache2/mods-enabled/wsgi.load' in files
    assert '/etc/apache2/mods-enabled/wsgi.conf' in files
    assert files[-1] == '/etc/apache2/sites-enabled/000-default.conf'
    assert len(files) == 40
    assert files.index('/etc/apache2/mods-enabled/status.load') < files.index('/etc/apache2/mods-enabled/wsgi.load')


def test_parse_includes_rocky_and_noise():
    text = 'AH00558: httpd: Could not reliably determine the FQDN\n' + fixture_text('rocky9_dump_includes.txt') + 'Syntax OK\n'
    files = mod_wsgi_info.parse_includes(text)
    assert files[0] == '/etc/httpd/conf/httpd.conf'
    assert '/etc/httpd/conf.modules.d/10-wsgi-python3.conf' in files
    assert len(files) == 14
    assert mod_wsgi_info.parse_includes('') == []
    assert mod_wsgi_info.parse_includes('  (*) /a.conf\n  (3) /a.conf\n') == ['/a.conf']


def test_parse_loaded_modules():
    modules = mod_wsgi_info.parse_loaded_modules(fixture_text('debian13_apache2ctl_M.txt'))
    assert 'wsgi_module' in modules
    assert 'core_module' in modules
    assert 'mpm_event_module' in modules
    assert 'Loaded' not in modules
    without = 'Loaded Modules:\n core_module (static)\n so_module (static)\n mime_module (shared)\n'
    assert 'wsgi_module' not in mod_wsgi_info.parse_loaded_modules(without)
    assert mod_wsgi_info.parse_loaded_modules('') == []


# ---------------------------------------------------------------------------
# Configuration parsing
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so\n', '/usr/lib/apache2/modules/mod_wsgi.so'),
    ('LoadModule wsgi_module "/opt/venv/lib/python3.13/site-packages/mod_wsgi/server/'
     'mod_wsgi-py313.cpython-313-x86_64-linux-gnu.so"\n',
     '/opt/venv/lib/python3.13/site-packages/mod_wsgi/server/mod_wsgi-py313.cpython-313-x86_64-linux-gnu.so'),
    ("LoadModule wsgi_module '/srv/my apps/mod_wsgi.so'\n", '/srv/my apps/mod_wsgi.so'),
    ('<IfModule !wsgi_module>\n    LoadModule wsgi_module modules/mod_wsgi_python3.so\n</IfModule>\n',
     'modules/mod_wsgi_python3.so'),
    ('\tloadmodule   wsgi_module\tmodules/mod_wsgi.so   \n', 'modules/mod_wsgi.so'),
    ('# LoadModule wsgi_module /commented/out.so\n#LoadModule wsgi_module /also/commented.so\n'
     'LoadModule wsgi_module /real/mod_wsgi.so\n', '/real/mod_wsgi.so'),
    ('LoadModule wsgi_module \\\n    /continued/mod_wsgi.so\n', '/continued/mod_wsgi.so'),
    ('LoadModule proxy_uwsgi_module /usr/lib/apache2/modules/mod_proxy_uwsgi.so\n'
     'LoadModule wsgi_module_x /nope.so\nLoadModule wsgi_module /first.so\nLoadModule wsgi_module /second.so\n',
     '/first.so'),
    ('    # LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so\n', None),
    ('LoadModule proxy_uwsgi_module /usr/lib/apache2/modules/mod_proxy_uwsgi.so\n', None),
    ('', None),
])
def test_find_loadmodule(text, expected):
    assert mod_wsgi_info.find_loadmodule(text) == expected


def test_find_server_root_and_includes():
    text = ('# ServerRoot "/etc/apache2"\nServerRoot "/etc/httpd"\nInclude conf.modules.d/*.conf\n'
            '#Include nothing.conf\nIncludeOptional "conf.d/*.conf"\nIncludeOptional ${APACHE_CONFDIR}/x.conf\n')
    assert mod_wsgi_info.find_server_root(text) == '/etc/httpd'
    assert mod_wsgi_info.find_server_root('#ServerRoot "/etc/apache2"\n') is None
    assert mod_wsgi_info.find_includes(text) == ['conf.modules.d/*.conf', 'conf.d/*.conf', '${APACHE_CONFDIR}/x.conf']


def test_resolve_path():
    assert mod_wsgi_info.resolve_path('modules/mod_wsgi.so', '/etc/httpd') == '/etc/httpd/modules/mod_wsgi.so'
    assert mod_wsgi_info.resolve_path('/abs/mod_wsgi.so', '/etc/httpd') == '/abs/mod_wsgi.so'
    assert mod_wsgi_info.resolve_path('../lib/mod_wsgi.so', '/etc/httpd') == '/etc/lib/mod_wsgi.so'
    assert mod_wsgi_info.resolve_path('modules/mod_wsgi.so', None) == 'modules/mod_wsgi.so'
    assert mod_wsgi_info.resolve_path(None, '/etc/httpd') is None


def test_collect_config_files_follows_includes(tmp_path):
    root = tmp_path / 'apache2'
    (root / 'mods-enabled').mkdir(parents=True)
    (root / 'sites-enabled').mkdir()
    (root / 'apache2.conf').write_text(
        '#ServerRoot "/etc/apache2"\nPidFile ${APACHE_PID_FILE}\n'
        'IncludeOptional mods-enabled/*.load\nInclude ports.conf\nIncludeOptional ${APACHE_CONFDIR}/x.conf\n'
        'IncludeOptional sites-enabled\n')
    (root / 'mods-enabled' / 'alias.load').write_text('LoadModule alias_module /x/mod_alias.so\n')
    (root / 'mods-enabled' / 'wsgi.load').write_text('LoadModule wsgi_module /x/mod_wsgi.so\n')
    (root / 'ports.conf').write_text('Listen 80\n')
    (root / 'sites-enabled' / '000-default.conf').write_text('<VirtualHost *:80>\n</VirtualHost>\n')
    files = mod_wsgi_info.collect_config_files(str(root / 'apache2.conf'), str(root))
    assert files == [
        str(root / 'apache2.conf'),
        str(root / 'mods-enabled' / 'alias.load'),
        str(root / 'mods-enabled' / 'wsgi.load'),
        str(root / 'ports.conf'),
        str(root / 'sites-enabled' / '000-default.conf'),
    ]
    assert mod_wsgi_info.collect_config_files(str(tmp_path / 'missing.conf'), str(root)) == []


# ---------------------------------------------------------------------------
# mod_wsgi file inspection
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('data, expected', [
    (b'k\x00python_init\x00wsgi_init\x005.0.2\x00mod_wsgi/%s\x00Python/%d.%d\x00check_password\x00', '5.0.2'),
    (b'k\x00python_init\x00wsgi_init\x004.9.4\x00mod_wsgi/%s\x00Python/%d.%d\x00|L:read\x00', '4.9.4'),
    (b'er/mod_wsgi.c\x00wsgi_init\x006.1.1\x00mod_wsgi/%s\x00Python/%d.%d\x00application/x-h', '6.1.1'),
    (b'\x00\x00mod_wsgi/3.4\x00Python/2.7\x00', '3.4'),
    (b'\x00mod_wsgi/%s\x00Python/%d.%d\x00', None),
    (b'nothing to see here', None),
    (b'', None),
])
def test_read_wsgi_version(data, expected):
    assert mod_wsgi_info.read_wsgi_version(data) == expected


def test_read_wsgi_version_in_fake_so():
    assert mod_wsgi_info.read_wsgi_version(fake_so(version='5.0.2', libpython='libpython3.13.so.1.0')) == '5.0.2'


@pytest.mark.parametrize('names, expected', [
    (['mod_wsgi', 'mod_wsgi-6.1.1.dist-info', 'pip'], '6.1.1'),
    (['mod_wsgi-4.9.4-py3.11.egg-info'], '4.9.4'),
    (['mod_wsgi_standalone-5.0.2.dist-info'], '5.0.2'),
    (['mod_wsgi_metrics-1.1.1.dist-info', 'flask-3.0.0.dist-info'], None),
    ([], None),
])
def test_version_from_dist_info(names, expected):
    assert mod_wsgi_info.version_from_dist_info(names) == expected


def test_find_dist_info_version_for_pip_layout(tmp_path):
    site = tmp_path / 'venv' / 'lib' / 'python3.13' / 'site-packages'
    server = site / 'mod_wsgi' / 'server'
    server.mkdir(parents=True)
    (site / 'mod_wsgi-6.1.1.dist-info').mkdir()
    so = server / 'mod_wsgi-py313.cpython-313-x86_64-linux-gnu.so'
    so.write_bytes(fake_so())
    assert mod_wsgi_info.find_dist_info_version(str(so)) == '6.1.1'
    lonely = tmp_path / 'elsewhere' / 'mod_wsgi.so'
    lonely.parent.mkdir()
    lonely.write_bytes(fake_so())
    assert mod_wsgi_info.find_dist_info_version(str(lonely)) is None


def make_debian_layout(tmp_path, python='3.13', version='5.0.2', libpython=None):
    modules = tmp_path / 'usr' / 'lib' / 'apache2' / 'modules'
    modules.mkdir(parents=True)
    real = modules / ('mod_wsgi.so-%s' % python)
    real.write_bytes(fake_so(version=version, libpython=libpython or 'libpython%s.so.1.0' % python))
    link = modules / 'mod_wsgi.so'
    link.symlink_to(real.name)
    return str(link), str(real)


def make_pip_layout(tmp_path, py='313', version='6.1.1', dist_info=None, libpython='libpython3.13.so.1.0'):
    site = tmp_path / 'opt' / 'venv' / 'lib' / ('python%s.%s' % (py[0], py[1:])) / 'site-packages'
    server = site / 'mod_wsgi' / 'server'
    server.mkdir(parents=True)
    so = server / ('mod_wsgi-py%s.cpython-%s-x86_64-linux-gnu.so' % (py, py))
    so.write_bytes(fake_so(version=version, libpython=libpython))
    if dist_info:
        (site / ('mod_wsgi-%s.dist-info' % dist_info)).mkdir()
    return str(so)


def test_python_version_debian_symlink(tmp_path):
    link, real = make_debian_layout(tmp_path, libpython='libpython3.11.so.1.0')
    assert os.path.realpath(link) == real
    data = open(real, 'rb').read()
    # The symlink wins even though the (fake) ELF data points at another version.
    assert mod_wsgi_info.python_version_for(link, os.path.realpath(link), data) == ('3.13', 'debian_symlink')
    assert mod_wsgi_info.python_from_debian_symlink(real) == '3.13'
    assert mod_wsgi_info.python_from_debian_symlink('/usr/lib/apache2/modules/mod_wsgi.so') is None


def test_python_version_pip_filename(tmp_path):
    so = make_pip_layout(tmp_path, py='312', libpython=None)
    data = open(so, 'rb').read()
    assert mod_wsgi_info.python_version_for(so, so, data) == ('3.12', 'pip_filename')
    assert mod_wsgi_info.python_from_pip_filename('/x/mod_wsgi-py39.cpython-39-x86_64-linux-gnu.so') == '3.9'
    assert mod_wsgi_info.python_from_pip_filename('/x/mod_wsgi.cpython-310-darwin.so') == '3.10'
    assert mod_wsgi_info.python_from_pip_filename('/x/mod_wsgi.so') is None


def test_python_version_elf(tmp_path):
    so = tmp_path / 'modules' / 'mod_wsgi_python3.so'
    so.parent.mkdir()
    so.write_bytes(fake_so(version='4.7.1', libpython='libpython3.9.so.1.0'))
    data = so.read_bytes()

    def ldd():
        raise AssertionError('ldd must not run when the ELF data is conclusive')

    assert mod_wsgi_info.python_version_for(str(so), str(so), data, ldd) == ('3.9', 'elf')


def test_python_version_ldd_and_unknown(tmp_path):
    so = tmp_path / 'mod_wsgi.so'
    so.write_bytes(fake_so(version='5.0.2'))
    data = so.read_bytes()
    ldd_output = ('\tlinux-vdso.so.1 (0x00007ffd)\n'
                  '\tlibpython3.12.so.1.0 => /opt/python/lib/libpython3.12.so.1.0 (0x00007f5e58f19000)\n'
                  '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f5e58d00000)\n')
    assert mod_wsgi_info.python_version_for(str(so), str(so), data, lambda: ldd_output) == ('3.12', 'ldd')
    assert mod_wsgi_info.python_version_for(str(so), str(so), data, lambda: '') == (None, None)
    assert mod_wsgi_info.python_version_for(str(so), str(so), data) == (None, None)


# ---------------------------------------------------------------------------
# main() end to end with a faked host
# ---------------------------------------------------------------------------

class FakeHost(object):
    """Commands available on the fake target and the output they produce."""

    def __init__(self, binaries, outputs):
        self.binaries = binaries      # name -> path
        self.outputs = outputs        # (command basename, args...) -> (rc, stdout, stderr)
        self.calls = []
        self.bin_lookups = []
        self.warnings = []

    # Installed on the AnsibleModule class as bound methods of this object, hence no module argument.
    def get_bin_path(self, arg, required=False, opt_dirs=None):
        self.bin_lookups.append((arg, opt_dirs))
        if arg in self.binaries:
            return self.binaries[arg]
        if os.path.isabs(arg) and arg in self.binaries.values():
            return arg
        return None

    def run_command(self, args, **kwargs):
        self.calls.append((list(args), kwargs))
        key = (os.path.basename(args[0]),) + tuple(args[1:])
        return self.outputs.get(key, (127, '', '%s: not faked' % ' '.join(args)))


@pytest.fixture
def run_module(monkeypatch):
    def run(host, args=None):
        return run_main(monkeypatch, mod_wsgi_info, args or {}, host.warnings,
                        get_bin_path=host.get_bin_path, run_command=host.run_command)

    return run


def dump_includes(*files):
    lines = ['Included configuration files:', '  (*) %s' % files[0]]
    lines += ['    (146) %s' % name for name in files[1:]]
    return '\n'.join(lines) + '\n'


DEBIAN_BINARIES = {
    'apache2ctl': '/usr/sbin/apache2ctl',
    'apachectl': '/usr/sbin/apachectl',
    'apache2': '/usr/sbin/apache2',
    'apxs': '/usr/bin/apxs',
    'apxs2': '/usr/bin/apxs2',
}


def debian_host(tmp_path, version_fixture, python, wsgi_version, loaded=True, binaries=None):
    link, dummy = make_debian_layout(tmp_path, python=python, version=wsgi_version)
    conf = tmp_path / 'etc' / 'apache2'
    (conf / 'mods-enabled').mkdir(parents=True)
    (conf / 'apache2.conf').write_text('#ServerRoot "/etc/apache2"\nIncludeOptional mods-enabled/*.load\n')
    (conf / 'mods-enabled' / 'alias.load').write_text('LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so\n')
    (conf / 'mods-enabled' / 'wsgi.load').write_text('# Depends: python3\nLoadModule wsgi_module %s\n' % link)
    includes = dump_includes(str(conf / 'apache2.conf'), str(conf / 'mods-enabled' / 'alias.load'),
                             str(conf / 'mods-enabled' / 'wsgi.load'))
    modules = fixture_text('debian13_apache2ctl_M.txt')
    if not loaded:
        modules = modules.replace(' wsgi_module (shared)\n', '')
    outputs = {
        ('apache2ctl', '-V'): (0, fixture_text(version_fixture), ''),
        ('apache2ctl', '-t', '-D', 'DUMP_INCLUDES'): (0, includes, 'Syntax OK\n'),
        ('apache2ctl', '-M'): (0, modules, ''),
    }
    return FakeHost(dict(binaries or DEBIAN_BINARIES), outputs), link


def test_main_debian13(tmp_path, run_module):
    host, link = debian_host(tmp_path, 'debian13_apache2ctl_V.txt', '3.13', '5.0.2')
    result = run_module(host).result
    assert result['changed'] is False
    assert result['apache'] == {
        'binary': '/usr/sbin/apache2',
        'apachectl': '/usr/sbin/apache2ctl',
        'version': '2.4.68',
        'mpm': 'event',
    }
    assert result['mod_wsgi'] == {
        'path': link,
        'realpath': os.path.join(os.path.dirname(link), 'mod_wsgi.so-3.13'),
        'version': '5.0.2',
        'python_version': '3.13',
        'python_version_source': 'debian_symlink',
        'loaded': True,
    }
    assert result['apxs'] == '/usr/bin/apxs'
    # An _info module reports; it sets no facts (the server role publishes them).
    assert 'ansible_facts' not in result
    # Only apache2ctl was run (it sources envvars on Debian), always with a C locale.
    assert host.warnings == []
    assert {call[0][0] for call in host.calls} == {'/usr/sbin/apache2ctl'}
    for dummy, kwargs in host.calls:
        assert kwargs['environ_update']['LANG'] == 'C'
    # Auto-detection searched the documented directories.
    assert ('apache2ctl', mod_wsgi_info.SEARCH_DIRS) in host.bin_lookups
    assert mod_wsgi_info.SEARCH_DIRS == ['/usr/sbin', '/usr/local/sbin', '/usr/pkg/sbin', '/opt/local/sbin', '/usr/bin']


def test_main_debian12(tmp_path, run_module):
    binaries = dict(DEBIAN_BINARIES)
    del binaries['apxs']
    del binaries['apxs2']
    host, link = debian_host(tmp_path, 'debian12_apache2ctl_V.txt', '3.11', '4.9.4', binaries=binaries)
    result = run_module(host, {'_ansible_check_mode': True}).result
    assert result['changed'] is False
    assert result['apache']['version'] == '2.4.62'
    assert result['apache']['mpm'] == 'event'
    assert result['mod_wsgi']['version'] == '4.9.4'
    assert result['mod_wsgi']['python_version'] == '3.11'
    assert result['mod_wsgi']['python_version_source'] == 'debian_symlink'
    assert result['mod_wsgi']['realpath'].endswith('/mod_wsgi.so-3.11')
    assert result['mod_wsgi']['loaded'] is True
    assert result['apxs'] is None


def test_main_rocky_wrapper_falls_back_to_httpd(tmp_path, run_module):
    server_root = tmp_path / 'etc' / 'httpd'
    (server_root / 'conf').mkdir(parents=True)
    (server_root / 'conf.modules.d').mkdir()
    (server_root / 'modules').mkdir()
    (server_root / 'conf' / 'httpd.conf').write_text(
        'ServerRoot "%s"\nListen 80\nInclude conf.modules.d/*.conf\n' % server_root)
    (server_root / 'conf.modules.d' / '10-wsgi-python3.conf').write_text(
        '<IfModule !wsgi_module>\n    LoadModule wsgi_module modules/mod_wsgi_python3.so\n</IfModule>\n')
    (server_root / 'modules' / 'mod_wsgi_python3.so').write_bytes(
        fake_so(version='4.7.1', libpython='libpython3.9.so.1.0'))
    includes = dump_includes(str(server_root / 'conf' / 'httpd.conf'),
                             str(server_root / 'conf.modules.d' / '10-wsgi-python3.conf'))
    rejected = (1, 'Passing arguments to httpd using apachectl is no longer supported.\n', '')
    host = FakeHost(
        {'apachectl': '/usr/sbin/apachectl', 'httpd': '/usr/sbin/httpd', 'apxs': '/usr/bin/apxs'},
        {
            ('apachectl', '-V'): (0, fixture_text('rocky9_httpd_V.txt'), ''),
            ('apachectl', '-t', '-D', 'DUMP_INCLUDES'): rejected,
            ('apachectl', '-M'): (2, '', 'apachectl: The "-M" option is not supported.\n'),
            ('httpd', '-t', '-D', 'DUMP_INCLUDES'): (0, includes, 'Syntax OK\n'),
            ('httpd', '-M'): (0, 'Loaded Modules:\n core_module (static)\n wsgi_module (shared)\n', ''),
        })
    result = run_module(host).result
    assert result['apache'] == {
        'binary': '/usr/sbin/httpd', 'apachectl': '/usr/sbin/apachectl', 'version': '2.4.62', 'mpm': 'event'}
    assert result['mod_wsgi'] == {
        'path': str(server_root / 'modules' / 'mod_wsgi_python3.so'),
        'realpath': str(server_root / 'modules' / 'mod_wsgi_python3.so'),
        'version': '4.7.1',
        'python_version': '3.9',
        'python_version_source': 'elf',
        'loaded': True,
    }
    assert result['apxs'] == '/usr/bin/apxs'
    assert [call[0] for call in host.calls] == [
        ['/usr/sbin/apachectl', '-V'],
        ['/usr/sbin/apachectl', '-t', '-D', 'DUMP_INCLUDES'],
        ['/usr/sbin/httpd', '-t', '-D', 'DUMP_INCLUDES'],
        ['/usr/sbin/apachectl', '-M'],
        ['/usr/sbin/httpd', '-M'],
    ]


def test_main_binary_only_when_apachectl_missing(tmp_path, run_module):
    host, link = debian_host(tmp_path, 'debian13_apache2ctl_V.txt', '3.13', '5.0.2',
                             binaries={'apache2': '/usr/sbin/apache2'})
    host.outputs = {('apache2',) + key[1:]: value for key, value in host.outputs.items()}
    result = run_module(host).result
    assert result['apache']['apachectl'] is None
    assert result['apache']['binary'] == '/usr/sbin/apache2'
    assert result['apache']['version'] == '2.4.68'
    assert result['mod_wsgi']['path'] == link
    assert {call[0][0] for call in host.calls} == {'/usr/sbin/apache2'}


def test_main_config_walk_when_dump_fails(tmp_path, run_module):
    # Neither command can dump the includes or modules (e.g. a broken vhost); the LoadModule line is then
    # found by following Include directives from the main configuration file.
    link, dummy = make_debian_layout(tmp_path, python='3.13', version='5.0.2')
    conf = tmp_path / 'etc' / 'apache2'
    (conf / 'mods-enabled').mkdir(parents=True)
    (conf / 'apache2.conf').write_text('IncludeOptional mods-enabled/*.load\n')
    (conf / 'mods-enabled' / 'wsgi.load').write_text('LoadModule wsgi_module "%s"\n' % link)
    version = fixture_text('debian13_apache2ctl_V.txt').replace('/etc/apache2', str(conf))
    host = FakeHost(DEBIAN_BINARIES, {('apache2ctl', '-V'): (0, version, '')})
    exit_info = run_module(host)
    assert isinstance(exit_info, AnsibleExitJson)
    result = exit_info.result
    assert result['mod_wsgi']['path'] == link
    assert result['mod_wsgi']['version'] == '5.0.2'
    assert result['mod_wsgi']['loaded'] is False
    assert any('-M' in warning for warning in host.warnings)


def test_main_apache_without_mod_wsgi(tmp_path, run_module):
    conf = tmp_path / 'apache2.conf'
    conf.write_text('#LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so\n')
    host = FakeHost(DEBIAN_BINARIES, {
        ('apache2ctl', '-V'): (0, fixture_text('debian13_apache2ctl_V.txt'), ''),
        ('apache2ctl', '-t', '-D', 'DUMP_INCLUDES'): (0, dump_includes(str(conf)), ''),
        ('apache2ctl', '-M'): (0, 'Loaded Modules:\n core_module (static)\n mime_module (shared)\n', ''),
    })
    exit_info = run_module(host)
    assert isinstance(exit_info, AnsibleExitJson)
    assert exit_info.result['apache']['version'] == '2.4.68'
    assert exit_info.result['mod_wsgi'] == {
        'path': None, 'realpath': None, 'version': None,
        'python_version': None, 'python_version_source': None, 'loaded': False,
    }


def test_main_module_path_pip_build(tmp_path, run_module):
    conf = tmp_path / 'apache2.conf'
    conf.write_text('ServerName localhost\n')
    # No version string in the .so: the version must come from the dist-info directory.
    so = make_pip_layout(tmp_path, py='313', version=None, dist_info='6.1.1')
    host = FakeHost(DEBIAN_BINARIES, {
        ('apache2ctl', '-V'): (0, fixture_text('debian13_apache2ctl_V.txt'), ''),
        ('apache2ctl', '-t', '-D', 'DUMP_INCLUDES'): (0, dump_includes(str(conf)), ''),
        ('apache2ctl', '-M'): (0, fixture_text('debian13_apache2ctl_M.txt').replace(' wsgi_module (shared)\n', ''), ''),
    })
    result = run_module(host, {'module_path': so}).result
    assert result['mod_wsgi'] == {
        'path': so,
        'realpath': so,
        'version': '6.1.1',
        'python_version': '3.13',
        'python_version_source': 'pip_filename',
        'loaded': False,
    }


def test_main_module_path_ignored_when_config_names_one(tmp_path, run_module):
    host, link = debian_host(tmp_path, 'debian13_apache2ctl_V.txt', '3.13', '5.0.2')
    so = make_pip_layout(tmp_path, py='313', version='6.1.1')
    result = run_module(host, {'module_path': so}).result
    assert result['mod_wsgi']['path'] == link
    assert result['mod_wsgi']['version'] == '5.0.2'


def test_main_ldd_fallback(tmp_path, run_module):
    conf = tmp_path / 'wsgi.load'
    so = tmp_path / 'mod_wsgi.so'
    so.write_bytes(fake_so(version='5.0.2'))
    conf.write_text('LoadModule wsgi_module %s\n' % so)
    binaries = dict(DEBIAN_BINARIES, ldd='/usr/bin/ldd')
    host = FakeHost(binaries, {
        ('apache2ctl', '-V'): (0, fixture_text('debian13_apache2ctl_V.txt'), ''),
        ('apache2ctl', '-t', '-D', 'DUMP_INCLUDES'): (0, dump_includes(str(conf)), ''),
        ('apache2ctl', '-M'): (0, fixture_text('debian13_apache2ctl_M.txt'), ''),
        ('ldd', str(so)): (0, '\tlibpython3.12.so.1.0 => /usr/local/lib/libpython3.12.so.1.0 (0x1)\n', ''),
    })
    result = run_module(host).result
    assert result['mod_wsgi']['python_version'] == '3.12'
    assert result['mod_wsgi']['python_version_source'] == 'ldd'


def test_main_no_apache(run_module):
    host = FakeHost({'apxs': '/usr/bin/apxs'}, {})
    failure = run_module(host)
    assert isinstance(failure, AnsibleFailJson)
    msg = failure.result['msg']
    for name in ('apache2ctl', 'apachectl', 'apache2', 'httpd', '/usr/pkg/sbin'):
        assert name in msg
    assert host.calls == []


def test_main_explicit_apachectl_missing(run_module):
    host = FakeHost(DEBIAN_BINARIES, {})
    failure = run_module(host, {'apachectl': '/usr/local/apache2/bin/apachectl'})
    assert isinstance(failure, AnsibleFailJson)
    assert '/usr/local/apache2/bin/apachectl' in failure.result['msg']


def test_main_explicit_commands(tmp_path, run_module):
    host, link = debian_host(tmp_path, 'debian13_apache2ctl_V.txt', '3.13', '5.0.2',
                             binaries={'/usr/local/apache2/bin/apache2ctl': '/usr/local/apache2/bin/apache2ctl',
                                       '/usr/local/apache2/bin/apache2': '/usr/local/apache2/bin/apache2'})
    result = run_module(host, {'apachectl': '/usr/local/apache2/bin/apache2ctl',
                               'apache_binary': '/usr/local/apache2/bin/apache2'}).result
    assert result['apache']['apachectl'] == '/usr/local/apache2/bin/apache2ctl'
    assert result['apache']['binary'] == '/usr/local/apache2/bin/apache2'
    assert result['apache']['version'] == '2.4.68'
    assert result['mod_wsgi']['version'] == '5.0.2'
    assert result['apxs'] is None


def test_main_missing_module_path(tmp_path, run_module):
    conf = tmp_path / 'apache2.conf'
    conf.write_text('')
    host = FakeHost(DEBIAN_BINARIES, {
        ('apache2ctl', '-V'): (0, fixture_text('debian13_apache2ctl_V.txt'), ''),
        ('apache2ctl', '-t', '-D', 'DUMP_INCLUDES'): (0, dump_includes(str(conf)), ''),
    })
    failure = run_module(host, {'module_path': str(tmp_path / 'nope.so')})
    assert isinstance(failure, AnsibleFailJson)
    assert 'nope.so' in failure.result['msg']


def test_main_configured_file_missing_warns(tmp_path, run_module):
    conf = tmp_path / 'wsgi.load'
    conf.write_text('LoadModule wsgi_module /nonexistent/mod_wsgi.so\n')
    host = FakeHost(DEBIAN_BINARIES, {
        ('apache2ctl', '-V'): (0, fixture_text('debian13_apache2ctl_V.txt'), ''),
        ('apache2ctl', '-t', '-D', 'DUMP_INCLUDES'): (0, dump_includes(str(conf)), ''),
        ('apache2ctl', '-M'): (0, fixture_text('debian13_apache2ctl_M.txt'), ''),
    })
    result = run_module(host).result
    assert result['mod_wsgi']['path'] == '/nonexistent/mod_wsgi.so'
    assert result['mod_wsgi']['realpath'] is None
    assert result['mod_wsgi']['version'] is None
    assert any('/nonexistent/mod_wsgi.so' in warning for warning in host.warnings)
