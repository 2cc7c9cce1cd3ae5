# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import grp
import hashlib
import os
import pwd
import stat

import pytest

from ansible_collections.modwsgi.deploy.plugins.modules import host_state
from ansible_collections.modwsgi.deploy.tests.unit.plugins.modules.module_harness import (
    AnsibleExitJson, AnsibleFailJson, run_main)


RESULT_KEYS = {'changed', 'apps', 'paths', 'globs', 'contents'}
APP_KEYS = {'exists', 'current', 'previous', 'current_release', 'previous_release', 'current_verified',
            'releases', 'venvs', 'user', 'group'}
PATH_KEYS = {'type', 'owner', 'group', 'mode', 'checksum', 'target'}
NO_SUCH_USER = 'modwsgi-no-such-user-7f3a'
NO_SUCH_GROUP = 'modwsgi-no-such-group-7f3a'

ENV_JSON = b'{"DJANGO_SETTINGS_MODULE": "shop.settings"}\n'
WSGI_SCRIPT = b'import sys\nfrom hello import app as application\n'


def me():
    entry = pwd.getpwuid(os.getuid())
    return {
        'name': entry.pw_name,
        'uid': entry.pw_uid,
        'gid': entry.pw_gid,
        'home': entry.pw_dir,
        'shell': entry.pw_shell,
        'group': grp.getgrgid(entry.pw_gid).gr_name,
    }


def my_group():
    entry = grp.getgrgid(os.getgid())
    return {'name': entry.gr_name, 'gid': entry.gr_gid}


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def touch(path, mtime=None, data=b''):
    parent = os.path.dirname(str(path))
    if not os.path.isdir(parent):
        os.makedirs(parent)
    with open(str(path), 'wb') as handle:
        handle.write(data)
    if mtime is not None:
        os.utime(str(path), (mtime, mtime))


def make_release(app_dir, release_id, complete=True, verified=False, venv=None, dir_mtime=None, marker_mtime=None):
    release = app_dir / 'releases' / release_id
    (release / 'src').mkdir(parents=True)
    if venv is not None:
        os.symlink(venv, str(release / 'venv'))
    if verified:
        touch(release / '.modwsgi-verified')
    if complete:
        touch(release / '.modwsgi-release', marker_mtime)
    if dir_mtime is not None:
        os.utime(str(release), (dir_mtime, dir_mtime))
    return release


def make_venv(app_dir, fingerprint, complete=True, marker=None):
    venv = app_dir / 'venvs' / fingerprint
    (venv / 'bin').mkdir(parents=True)
    if complete:
        touch(venv / (marker or '.modwsgi-venv-' + fingerprint))
    return venv


@pytest.fixture
def run(monkeypatch):
    def run_module(args):
        warnings = []
        outcome = run_main(monkeypatch, host_state, args, warnings)
        assert warnings == []
        return outcome

    return run_module


def exit_result(outcome):
    assert isinstance(outcome, AnsibleExitJson), outcome.result
    assert set(outcome.result) == RESULT_KEYS
    assert outcome.result['changed'] is False
    return outcome.result


def deny_lstat(monkeypatch, denied):
    """Make os.lstat of one path fail with EACCES, as for a file in a directory the module may not read."""
    real = os.lstat

    def lstat(path, *args, **kwargs):
        if path == denied:
            raise OSError(errno.EACCES, 'Permission denied', path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(host_state.os, 'lstat', lstat)


def fail_result(outcome):
    assert isinstance(outcome, AnsibleFailJson), outcome.result
    return outcome.result


def empty_state(**overrides):
    state = {
        'exists': False, 'current': None, 'previous': None, 'current_release': None, 'previous_release': None,
        'current_verified': False, 'releases': {}, 'venvs': {}, 'user': None, 'group': None,
    }
    state.update(overrides)
    return state


def mode_of(path):
    return '%04o' % stat.S_IMODE(os.lstat(str(path)).st_mode)


def owned(path, **fields):
    """``fields`` with the owner, group and mode RV(apps.releases) and RV(apps.venvs) give for the directory ``path``
    (owned by the user running the tests)."""
    return dict(fields, owner=pwd.getpwuid(os.getuid()).pw_name, group=grp.getgrgid(os.getgid()).gr_name,
                mode=mode_of(path))


def entry(kind, path, checksum=None, target=None, owner=None, group=None):
    """The expected RV(paths) value of ``path`` (owned by the user running the tests unless told)."""
    return {
        'type': kind,
        'owner': owner or pwd.getpwuid(os.getuid()).pw_name,
        'group': group or grp.getgrgid(os.getgid()).gr_name,
        'mode': mode_of(path),
        'checksum': checksum,
        'target': target,
    }


# ---------------------------------------------------------------------------
# A deployed app with every kind of entry, read with paths and globs in one call
# ---------------------------------------------------------------------------

@pytest.fixture
def hello(tmp_path):
    """<tmp>/srv/hello, deployed a few times, with some debris."""
    root = tmp_path / 'srv'
    app = root / 'hello'
    for name in ('data', 'cache', 'wsgi'):
        (app / name).mkdir(parents=True)
    os.chmod(str(root), 0o755)
    os.chmod(str(app), 0o755)
    os.chmod(str(app / 'data'), 0o750)
    os.chmod(str(app / 'cache'), 0o2700)

    # Serving, verified, on a complete shared venv.
    make_release(app, 'abc123def456', verified=True, venv='../../venvs/5f0e1d2c3b4a',
                 dir_mtime=1000.0, marker_mtime=1700000300.25)
    # The one before, never verified; its venv has the marker of another fingerprint.
    make_release(app, '0123456789ab', venv='../../venvs/99aa88bb77cc', dir_mtime=1000.0, marker_mtime=1700000100.5)
    # Half-built: no marker, and its venv was never created (dangling link).
    make_release(app, 'ffffeeeedddd', complete=False, venv='../../venvs/000000000000', dir_mtime=1600000000.75)
    # Older complete release linked to its venv by an absolute path.
    make_release(app, '111111111111', venv=str(app / 'venvs' / '5f0e1d2c3b4a'), marker_mtime=1500000000.0)
    # A venv link leading out of venvs/, and a venv link leading to venvs/ itself.
    make_release(app, '222222222222', venv='/opt/elsewhere/venv', marker_mtime=1400000000.0)
    make_release(app, '333333333333', venv='../../venvs', marker_mtime=1300000000.0)
    # A release whose venv is a real directory (not a link), and whose marker is a symbolic link.
    release = make_release(app, '444444444444', complete=False)
    (release / 'venv').mkdir()
    os.symlink('../abc123def456/.modwsgi-release', str(release / '.modwsgi-release'))
    os.symlink('../abc123def456/.modwsgi-verified', str(release / '.modwsgi-verified'))
    os.utime(str(release), (1200000000.0, 1200000000.0))
    # Not releases: a symbolic link to a release, and a file.
    os.symlink('abc123def456', str(app / 'releases' / 'latest'))
    touch(app / 'releases' / 'README')

    make_venv(app, '5f0e1d2c3b4a')
    make_venv(app, '99aa88bb77cc', marker='.modwsgi-venv-5f0e1d2c3b4a')
    make_venv(app, 'deadbeef0000', complete=False)
    # Not venvs: a link to one, a file; and a venv whose marker is a directory.
    os.symlink('5f0e1d2c3b4a', str(app / 'venvs' / 'shared'))
    touch(app / 'venvs' / 'notes.txt')
    (make_venv(app, 'cafe00000000', complete=False) / '.modwsgi-venv-cafe00000000').mkdir()

    os.symlink('releases/abc123def456', str(app / 'current'))
    os.symlink('releases/0123456789ab', str(app / 'previous'))

    touch(app / 'env.json', data=ENV_JSON)
    touch(app / 'wsgi' / 'hello.wsgi', data=WSGI_SCRIPT)
    touch(app / 'empty.json')
    touch(app / '.env.json.swp')
    os.symlink('env.json', str(app / 'linked.json'))
    os.symlink(str(tmp_path / 'outside'), str(app / 'outside-link'))
    touch(tmp_path / 'outside', data=b'outside')
    return root


def test_deployed_app(run, hello):
    app = hello / 'hello'
    releases = app / 'releases'
    paths = [
        str(hello), str(app), str(releases), str(app / 'data'), str(app / 'cache'),
        str(app / 'env.json'), str(app / 'empty.json'), str(app / 'wsgi' / 'hello.wsgi'),
        str(app / 'current'), str(app / 'current') + '/', str(app / 'linked.json'), str(app / 'outside-link'),
        str(releases / 'ffffeeeedddd' / 'venv'),  # dangling
        str(releases / 'latest' / '.modwsgi-release'),  # through a symbolic link to a directory
        str(app / 'secret_env.json'), str(hello / 'other' / 'env.json'), str(app / 'env.json' / 'x'),
    ]
    globs = [
        str(releases / '*'),
        str(releases / '*' / 'venv'),
        str(releases / '*' / '.modwsgi-verified'),
        str(app / '*.json'),
        str(app / '.*'),
        str(app / 'venvs' / '[5d]*'),
        str(app / 'nothing-*'),
        str(hello / 'nowhere' / '*'),
    ]
    result = exit_result(run({
        'root': str(hello),
        'apps': [{'name': 'hello', 'user': me()['name'], 'group': my_group()['name']}],
        'paths': paths,
        'globs': globs,
    }))
    assert list(result['apps']) == ['hello']
    state = result['apps']['hello']
    assert set(state) == APP_KEYS

    assert state['exists'] is True
    assert state['current'] == 'releases/abc123def456'
    assert state['previous'] == 'releases/0123456789ab'
    assert state['current_release'] == 'abc123def456'
    assert state['previous_release'] == '0123456789ab'
    assert state['current_verified'] is True

    assert state['releases'] == {
        'abc123def456': owned(releases / 'abc123def456', complete=True, verified=True, mtime=1700000300.25,
                              venv='5f0e1d2c3b4a'),
        '0123456789ab': owned(releases / '0123456789ab', complete=True, verified=False, mtime=1700000100.5,
                              venv='99aa88bb77cc'),
        'ffffeeeedddd': owned(releases / 'ffffeeeedddd', complete=False, verified=False, mtime=1600000000.75,
                              venv='000000000000'),
        '111111111111': owned(releases / '111111111111', complete=True, verified=False, mtime=1500000000.0,
                              venv='5f0e1d2c3b4a'),
        '222222222222': owned(releases / '222222222222', complete=True, verified=False, mtime=1400000000.0, venv=None),
        '333333333333': owned(releases / '333333333333', complete=True, verified=False, mtime=1300000000.0, venv=None),
        '444444444444': owned(releases / '444444444444', complete=False, verified=False, mtime=1200000000.0, venv=None),
    }
    for release in state['releases'].values():
        assert isinstance(release['mtime'], float)

    venvs = app / 'venvs'
    assert state['venvs'] == {
        '5f0e1d2c3b4a': owned(venvs / '5f0e1d2c3b4a', complete=True),
        '99aa88bb77cc': owned(venvs / '99aa88bb77cc', complete=False),
        'deadbeef0000': owned(venvs / 'deadbeef0000', complete=False),
        'cafe00000000': owned(venvs / 'cafe00000000', complete=False),
    }
    assert state['user'] == me()
    assert state['group'] == my_group()

    assert list(result['paths']) == paths
    assert result['paths'] == {
        str(hello): entry('directory', hello),
        str(app): entry('directory', app),
        str(releases): entry('directory', releases),
        str(app / 'data'): entry('directory', app / 'data'),
        str(app / 'cache'): entry('directory', app / 'cache'),
        str(app / 'env.json'): entry('file', app / 'env.json', checksum=sha1(ENV_JSON)),
        str(app / 'empty.json'): entry('file', app / 'empty.json', checksum=sha1(b'')),
        str(app / 'wsgi' / 'hello.wsgi'): entry('file', app / 'wsgi' / 'hello.wsgi', checksum=sha1(WSGI_SCRIPT)),
        str(app / 'current'): entry('link', app / 'current', target='releases/abc123def456'),
        str(app / 'current') + '/': entry('link', app / 'current', target='releases/abc123def456'),
        str(app / 'linked.json'): entry('link', app / 'linked.json', target='env.json'),
        str(app / 'outside-link'): entry('link', app / 'outside-link', target=str(hello.parent / 'outside')),
        str(releases / 'ffffeeeedddd' / 'venv'): entry('link', releases / 'ffffeeeedddd' / 'venv',
                                                       target='../../venvs/000000000000'),
        str(releases / 'latest' / '.modwsgi-release'): entry('file', releases / 'abc123def456' / '.modwsgi-release',
                                                             checksum=sha1(b'')),
        str(app / 'secret_env.json'): None,
        str(hello / 'other' / 'env.json'): None,
        str(app / 'env.json' / 'x'): None,
    }
    assert result['paths'][str(app / 'data')]['mode'] == '0750'
    assert result['paths'][str(app / 'cache')]['mode'] == '2700'
    assert result['paths'][str(hello)]['mode'] == '0755'

    assert list(result['globs']) == globs
    assert result['globs'] == {
        str(releases / '*'): [str(releases / name) for name in (
            '0123456789ab', '111111111111', '222222222222', '333333333333', '444444444444', 'README',
            'abc123def456', 'ffffeeeedddd', 'latest')],
        # dangling links (ffffeeeedddd, 222222222222) match; latest/venv is found through the link latest
        str(releases / '*' / 'venv'): [str(releases / name / 'venv') for name in (
            '0123456789ab', '111111111111', '222222222222', '333333333333', '444444444444', 'abc123def456',
            'ffffeeeedddd', 'latest')],
        # a literal hidden name after a wildcard: 444444444444's is a symbolic link to abc123def456's
        str(releases / '*' / '.modwsgi-verified'): [str(releases / name / '.modwsgi-verified') for name in (
            '444444444444', 'abc123def456', 'latest')],
        # no hidden file unless the pattern says so
        str(app / '*.json'): [str(app / name) for name in ('empty.json', 'env.json', 'linked.json')],
        str(app / '.*'): [str(app / '.env.json.swp')],
        str(app / 'venvs' / '[5d]*'): [str(app / 'venvs' / name) for name in ('5f0e1d2c3b4a', 'deadbeef0000')],
        str(app / 'nothing-*'): [],
        str(hello / 'nowhere' / '*'): [],
    }


def test_unverified_current_and_custom_markers(run, tmp_path):
    root = tmp_path / 'root'
    app = root / 'shop'
    release = app / 'releases' / 'r1'
    release.mkdir(parents=True)
    touch(release / 'DONE', 1234.5)
    touch(release / '.modwsgi-release')  # not the marker this app uses
    touch(release / '.modwsgi-verified')  # not the marker this app uses
    venv = app / 'venvs' / 'v1'
    venv.mkdir(parents=True)
    touch(venv / 'READY-v1')
    os.symlink('../../venvs/v1', str(release / 'venv'))
    os.symlink('releases/r1/', str(app / 'current'))  # trailing slash

    result = exit_result(run({
        'root': str(root),
        'apps': [{'name': 'shop', 'release_marker': 'DONE', 'venv_marker_prefix': 'READY-', 'verified_marker': 'OK'}],
    }))
    assert result['apps'] == {'shop': empty_state(
        exists=True,
        current='releases/r1/',
        current_release='r1',
        current_verified=False,
        releases={'r1': owned(release, complete=True, verified=False, mtime=1234.5, venv='v1')},
        venvs={'v1': owned(venv, complete=True)},
    )}

    touch(release / 'OK')
    state = exit_result(run({
        'root': str(root),
        'apps': [{'name': 'shop', 'release_marker': 'DONE', 'venv_marker_prefix': 'READY-', 'verified_marker': 'OK'}],
    }))['apps']['shop']
    assert state['current_verified'] is True
    assert state['releases']['r1']['verified'] is True


RELEASE_KEYS = {'complete', 'verified', 'mtime', 'venv', 'owner', 'group', 'mode'}
VENV_KEYS = {'complete', 'owner', 'group', 'mode'}


def test_owner_group_and_mode_of_releases_and_venvs(run, tmp_path):
    root = tmp_path / 'srv'
    app = root / 'own'
    modes = {'r0755': 0o755, 'r0700': 0o700, 'r2750': 0o2750, 'r1777': 0o1777}
    for name, mode in modes.items():
        release = make_release(app, name, complete=name != 'r0700')
        os.chmod(str(release / 'src'), 0o600 if mode != 0o700 else 0o755)  # what the release holds does not count
        os.chmod(str(release), mode)
    for name, mode in (('v0755', 0o755), ('v0750', 0o750), ('v4711', 0o4711)):
        venv = make_venv(app, name, complete=name != 'v0750')
        os.chmod(str(venv / 'bin'), 0o700)
        os.chmod(str(venv), mode)
    os.symlink('r0700', str(app / 'releases' / 'link-to-r0700'))
    os.symlink('v0750', str(app / 'venvs' / 'link-to-v0750'))
    try:
        state = exit_result(run({'root': str(root), 'apps': [{'name': 'own'}]}))['apps']['own']
    finally:
        for directory in list((app / 'releases').iterdir()) + list((app / 'venvs').iterdir()):
            if not directory.is_symlink():
                os.chmod(str(directory), 0o755)
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    assert sorted(state['releases']) == sorted(modes)
    for name, mode in modes.items():
        assert set(state['releases'][name]) == RELEASE_KEYS
        assert (state['releases'][name]['owner'], state['releases'][name]['group']) == (user, group)
        assert state['releases'][name]['mode'] == '%04o' % mode
    assert state['releases']['r0700']['complete'] is False
    assert sorted(state['venvs']) == ['v0750', 'v0755', 'v4711']
    assert [state['venvs'][name]['mode'] for name in ('v0755', 'v0750', 'v4711')] == ['0755', '0750', '4711']
    for venv in state['venvs'].values():
        assert set(venv) == VENV_KEYS
        assert (venv['owner'], venv['group']) == (user, group)
    assert state['venvs']['v0750']['complete'] is False


def test_owner_and_group_of_releases_and_venvs_without_a_name(run, monkeypatch, tmp_path):
    root = tmp_path / 'srv'
    make_release(root / 'app', 'r1')
    make_venv(root / 'app', 'v1')

    def no_names(gid):
        raise KeyError(gid)

    monkeypatch.setattr(host_state.grp, 'getgrgid', no_names)
    monkeypatch.setattr(host_state.pwd, 'getpwuid', no_names)
    state = exit_result(run({'root': str(root), 'apps': [{'name': 'app'}]}))['apps']['app']
    ids = (str(os.getuid()), str(os.getgid()))
    assert (state['releases']['r1']['owner'], state['releases']['r1']['group']) == ids
    assert (state['venvs']['v1']['owner'], state['venvs']['v1']['group']) == ids


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to give directories to another user')
def test_releases_and_venvs_still_owned_by_the_app_user(run, tmp_path):
    # What the app role looks for: releases and venvs built by older versions, owned by the app's user.
    nobody = pwd.getpwnam('nobody')
    root = tmp_path / 'srv'
    old_release = make_release(root / 'app', 'old')
    make_release(root / 'app', 'new')
    old_venv = make_venv(root / 'app', 'oldvenv')
    make_venv(root / 'app', 'newvenv')
    for directory in (old_release, old_venv):
        os.chown(str(directory), nobody.pw_uid, nobody.pw_gid)
        os.chown(str(directory / ('src' if directory == old_release else 'bin')), 0, 0)
    state = exit_result(run({'root': str(root), 'apps': [{'name': 'app'}]}))['apps']['app']
    nogroup = grp.getgrgid(nobody.pw_gid).gr_name
    assert (state['releases']['old']['owner'], state['releases']['old']['group']) == ('nobody', nogroup)
    assert (state['venvs']['oldvenv']['owner'], state['venvs']['oldvenv']['group']) == ('nobody', nogroup)
    root_name = pwd.getpwuid(0).pw_name
    assert (state['releases']['new']['owner'], state['venvs']['newvenv']['owner']) == (root_name, root_name)


# ---------------------------------------------------------------------------
# current and previous
# ---------------------------------------------------------------------------

def links_app(tmp_path):
    root = tmp_path / 'srv'
    app = root / 'links'
    make_release(app, 'aaaaaaaaaaaa', verified=True, marker_mtime=2000.0)
    make_venv(app, 'bbbbbbbbbbbb')
    return root, app


@pytest.mark.parametrize('current, previous, current_release, previous_release', [
    # dangling: the release was removed
    ('releases/0000deadbeef', 'releases/aaaaaaaaaaaa', None, 'aaaaaaaaaaaa'),
    # outside releases/: into venvs, the app dir, up and back in, another app, an absolute path elsewhere
    ('venvs/bbbbbbbbbbbb', 'releases', None, None),
    ('.', '../links/releases/aaaaaaaaaaaa', None, 'aaaaaaaaaaaa'),
    ('../other/releases/aaaaaaaaaaaa', '/opt/releases/aaaaaaaaaaaa', None, None),
    ('releases/aaaaaaaaaaaa/src', 'releases/..', None, None),
    # the symbolic link inside releases/ is no release
    ('releases/latest', 'releases/README', None, None),
    # absolute and ./ forms of a release
    ('{app}/releases/aaaaaaaaaaaa', './releases/./aaaaaaaaaaaa', 'aaaaaaaaaaaa', 'aaaaaaaaaaaa'),
])
def test_links(run, tmp_path, current, previous, current_release, previous_release):
    root, app = links_app(tmp_path)
    os.symlink('aaaaaaaaaaaa', str(app / 'releases' / 'latest'))
    touch(app / 'releases' / 'README')
    current = current.format(app=app)
    os.symlink(current, str(app / 'current'))
    os.symlink(previous, str(app / 'previous'))

    state = exit_result(run({'root': str(root), 'apps': [{'name': 'links'}]}))['apps']['links']
    assert state == empty_state(
        exists=True,
        current=current,
        previous=previous,
        current_release=current_release,
        previous_release=previous_release,
        current_verified=current_release is not None,
        releases={'aaaaaaaaaaaa': owned(app / 'releases' / 'aaaaaaaaaaaa', complete=True, verified=True, mtime=2000.0,
                                        venv=None)},
        venvs={'bbbbbbbbbbbb': owned(app / 'venvs' / 'bbbbbbbbbbbb', complete=True)},
    )


def test_links_that_are_not_symbolic_links(run, tmp_path):
    root, app = links_app(tmp_path)
    (app / 'current').mkdir()
    touch(app / 'previous', data=b'releases/aaaaaaaaaaaa')
    state = exit_result(run({'root': str(root), 'apps': [{'name': 'links'}]}))['apps']['links']
    assert state == empty_state(
        exists=True,
        releases={'aaaaaaaaaaaa': owned(app / 'releases' / 'aaaaaaaaaaaa', complete=True, verified=True, mtime=2000.0,
                                        venv=None)},
        venvs={'bbbbbbbbbbbb': owned(app / 'venvs' / 'bbbbbbbbbbbb', complete=True)},
    )


def test_app_without_releases_or_venvs_yet(run, tmp_path):
    root = tmp_path / 'srv'
    (root / 'fresh').mkdir(parents=True)
    state = exit_result(run({'root': str(root), 'apps': [{'name': 'fresh'}]}))['apps']['fresh']
    assert state == empty_state(exists=True)


def test_symlinked_root_and_app_dir_are_followed(run, tmp_path):
    real_root, real_app = links_app(tmp_path)
    os.symlink('releases/aaaaaaaaaaaa', str(real_app / 'current'))
    (tmp_path / 'disk').mkdir()
    os.rename(str(real_app), str(tmp_path / 'disk' / 'links'))
    os.symlink(str(tmp_path / 'disk' / 'links'), str(real_app))
    os.symlink(str(real_root), str(tmp_path / 'root-link'))

    state = exit_result(run({'root': str(tmp_path / 'root-link'), 'apps': [{'name': 'links'}]}))['apps']['links']
    assert state['exists'] is True
    assert state['current_release'] == 'aaaaaaaaaaaa'
    assert state['current_verified'] is True
    assert list(state['releases']) == ['aaaaaaaaaaaa']
    assert list(state['venvs']) == ['bbbbbbbbbbbb']


# ---------------------------------------------------------------------------
# Missing root or app directory, users and groups
# ---------------------------------------------------------------------------

def test_missing_root_and_app(run, tmp_path):
    (tmp_path / 'srv').mkdir()
    touch(tmp_path / 'srv' / 'notadir')
    missing = tmp_path / 'nowhere'
    args = {
        'apps': [
            {'name': 'ghost', 'user': NO_SUCH_USER, 'group': NO_SUCH_GROUP},
            {'name': 'me', 'user': me()['name'], 'group': my_group()['name']},
        ],
    }
    for root in (missing, tmp_path / 'srv'):
        result = exit_result(run(dict(args, root=str(root))))
        assert result['apps'] == {
            'ghost': empty_state(),
            'me': empty_state(user=me(), group=my_group()),
        }
        assert result['paths'] == {}
        assert result['globs'] == {}

    # An app "directory" that is a file does not exist either.
    result = exit_result(run({'root': str(tmp_path / 'srv'), 'apps': [{'name': 'notadir'}]}))
    assert result['apps'] == {'notadir': empty_state()}


def test_user_primary_group_and_owner_without_a_name(run, monkeypatch, tmp_path):
    data = tmp_path / 'srv' / 'app' / 'data'
    data.mkdir(parents=True)
    user = me()

    def no_names(gid):
        raise KeyError(gid)

    monkeypatch.setattr(host_state.grp, 'getgrgid', no_names)
    monkeypatch.setattr(host_state.pwd, 'getpwuid', no_names)
    result = exit_result(run({'root': str(tmp_path / 'srv'), 'apps': [{'name': 'app', 'user': user['name']}],
                              'paths': [str(data)]}))
    state = result['apps']['app']
    assert state['user'] == dict(user, group=str(user['gid']))
    assert state['group'] is None
    assert result['paths'] == {str(data): entry('directory', data, owner=str(os.getuid()), group=str(os.getgid()))}


def test_several_apps_and_check_mode(run, hello):
    make_release(hello / 'second', 'cccccccccccc', marker_mtime=3000.0, venv='../../venvs/dddddddddddd')
    make_venv(hello / 'second', 'dddddddddddd')
    os.symlink('releases/cccccccccccc', str(hello / 'second' / 'current'))
    result = exit_result(run({
        'root': str(hello),
        'apps': [{'name': 'hello'}, {'name': 'second'}, {'name': 'third'}],
        'paths': [str(hello / 'second' / 'current')],
        'globs': [str(hello / '*')],
        '_ansible_check_mode': True,
    }))
    assert sorted(result['apps']) == ['hello', 'second', 'third']
    assert result['apps']['hello']['current_release'] == 'abc123def456'
    assert result['apps']['second'] == empty_state(
        exists=True,
        current='releases/cccccccccccc',
        current_release='cccccccccccc',
        releases={'cccccccccccc': owned(hello / 'second' / 'releases' / 'cccccccccccc', complete=True, verified=False,
                                        mtime=3000.0, venv='dddddddddddd')},
        venvs={'dddddddddddd': owned(hello / 'second' / 'venvs' / 'dddddddddddd', complete=True)},
    )
    assert result['apps']['third'] == empty_state()
    assert result['paths'] == {str(hello / 'second' / 'current'): entry(
        'link', hello / 'second' / 'current', target='releases/cccccccccccc')}
    assert result['globs'] == {str(hello / '*'): [str(hello / 'hello'), str(hello / 'second')]}


# ---------------------------------------------------------------------------
# paths
# ---------------------------------------------------------------------------

def test_paths_of_each_type(run, tmp_path):
    content = b'Listen 80\n' + os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk
    touch(tmp_path / 'file', data=content)
    os.chmod(str(tmp_path / 'file'), 0o640)
    touch(tmp_path / 'setuid')
    os.chmod(str(tmp_path / 'setuid'), 0o4755)
    (tmp_path / 'dir').mkdir()
    os.chmod(str(tmp_path / 'dir'), 0o1777)
    os.symlink('file', str(tmp_path / 'link'))
    os.symlink('dir', str(tmp_path / 'dirlink'))
    os.symlink('../nowhere/at/all', str(tmp_path / 'dangling'))
    paths = {
        'file': entry('file', tmp_path / 'file', checksum=hashlib.sha1(content).hexdigest()),
        'setuid': entry('file', tmp_path / 'setuid', checksum=sha1(b'')),
        'dir': entry('directory', tmp_path / 'dir'),
        'dir/': entry('directory', tmp_path / 'dir'),
        'link': entry('link', tmp_path / 'link', target='file'),
        'dirlink': entry('link', tmp_path / 'dirlink', target='dir'),
        'dirlink/': entry('link', tmp_path / 'dirlink', target='dir'),
        'dangling': entry('link', tmp_path / 'dangling', target='../nowhere/at/all'),
        'missing': None,
        'missing/below': None,
        'file/below': None,
        'dangling/below': None,
    }
    result = exit_result(run({'paths': [str(tmp_path / p) for p in paths]}))
    assert result['apps'] == {}
    assert result['globs'] == {}
    assert result['paths'] == dict((str(tmp_path / p), v) for p, v in paths.items())
    # str(tmp_path / 'dir/') drops the slash; the module keeps the key as given
    result = exit_result(run({'paths': [str(tmp_path / 'dir') + '/', '/']}))
    top = os.lstat('/')
    assert result['paths'] == {
        str(tmp_path / 'dir') + '/': paths['dir'],
        '/': entry('directory', '/', owner=pwd.getpwuid(top.st_uid).pw_name, group=grp.getgrgid(top.st_gid).gr_name),
    }
    for value in result['paths'].values():
        assert set(value) == PATH_KEYS
    assert paths['file']['mode'] == '0640'
    assert paths['setuid']['mode'] == '4755'
    assert paths['dir']['mode'] == '1777'


def test_checksum_is_the_one_of_stat(run, tmp_path):
    """The same checksum ansible.builtin.stat gives (AnsibleModule.digest_from_file)."""
    from ansible.module_utils.basic import AnsibleModule

    touch(tmp_path / 'env.json', data=ENV_JSON)
    result = exit_result(run({'paths': [str(tmp_path / 'env.json')]}))
    checksum = result['paths'][str(tmp_path / 'env.json')]['checksum']
    assert checksum == AnsibleModule.digest_from_file(None, str(tmp_path / 'env.json'), 'sha1')
    assert checksum == sha1(ENV_JSON)


@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='no FIFOs')
def test_fifo_is_other_and_not_read(run, tmp_path):
    fifo = tmp_path / 'env.json'
    os.mkfifo(str(fifo))
    result = exit_result(run({'paths': [str(fifo)], 'globs': [str(tmp_path / '*.json')]}))
    assert result['paths'] == {str(fifo): entry('other', fifo)}
    assert result['globs'] == {str(tmp_path / '*.json'): [str(fifo)]}


def test_file_replaced_by_a_link_after_lstat(monkeypatch, tmp_path):
    touch(tmp_path / 'f', data=b'x')

    def open_loop(path, flags, *args):
        raise OSError(errno.ELOOP, 'Too many levels of symbolic links')

    monkeypatch.setattr(host_state.os, 'open', open_loop)
    assert host_state.sha1_file(str(tmp_path / 'f')) is None
    assert host_state.path_info(str(tmp_path / 'f'), host_state.Names())['checksum'] is None


def test_unreadable_path_fails(run, monkeypatch, tmp_path):
    denied_path = str(tmp_path / 'locked' / 'env.json')
    deny_lstat(monkeypatch, denied_path)
    result = fail_result(run({'paths': [str(tmp_path), denied_path]}))
    assert result['msg'] == 'paths: cannot read the status of %s: Permission denied' % denied_path
    assert result['path'] == denied_path


def test_unreadable_file_fails(run, monkeypatch, tmp_path):
    touch(tmp_path / 'env.json', data=ENV_JSON)

    def denied(path, flags, *args):
        raise OSError(errno.EACCES, 'Permission denied', path)

    monkeypatch.setattr(host_state.os, 'open', denied)
    result = fail_result(run({'paths': [str(tmp_path / 'env.json')]}))
    assert result['msg'] == 'paths: cannot read %s: Permission denied' % (tmp_path / 'env.json')
    assert result['path'] == str(tmp_path / 'env.json')


def test_unreadable_link_fails(run, monkeypatch, tmp_path):
    os.symlink('somewhere', str(tmp_path / 'link'))

    def denied(path):
        raise OSError(errno.EACCES, 'Permission denied', path)

    monkeypatch.setattr(host_state.os, 'readlink', denied)
    result = fail_result(run({'paths': [str(tmp_path / 'link')]}))
    assert result['msg'] == 'paths: cannot read the symbolic link %s: Permission denied' % (tmp_path / 'link')


# ---------------------------------------------------------------------------
# globs
# ---------------------------------------------------------------------------

@pytest.fixture
def sites(tmp_path):
    """<tmp>/apache with sites-available and sites-enabled, as a server would have them."""
    apache = tmp_path / 'apache'
    available = apache / 'sites-available'
    enabled = apache / 'sites-enabled'
    for name in ('modwsgi-hello.conf', 'modwsgi-shop.conf', 'other.conf', '.modwsgi-old.conf', 'modwsgi-x.conf~'):
        touch(available / name)
    enabled.mkdir()
    os.symlink('../sites-available/modwsgi-hello.conf', str(enabled / 'modwsgi-hello.conf'))
    os.symlink('../sites-available/modwsgi-gone.conf', str(enabled / 'modwsgi-gone.conf'))  # dangling
    os.symlink('../sites-available/.modwsgi-old.conf', str(enabled / '.modwsgi-old.conf'))
    (apache / 'conf.d' / 'sub').mkdir(parents=True)
    touch(apache / 'conf.d' / 'sub' / 'deep.conf')
    os.symlink('sites-available', str(apache / 'linked-sites'))
    return apache


def test_globs(run, sites):
    available = sites / 'sites-available'
    enabled = sites / 'sites-enabled'
    patterns = {
        str(available / 'modwsgi-*.conf'): [str(available / n) for n in ('modwsgi-hello.conf', 'modwsgi-shop.conf')],
        str(available / '*'): [str(available / n) for n in ('modwsgi-hello.conf', 'modwsgi-shop.conf',
                                                            'modwsgi-x.conf~', 'other.conf')],
        str(available / '.*'): [str(available / '.modwsgi-old.conf')],
        str(available / 'modwsgi-????.conf'): [str(available / 'modwsgi-shop.conf')],
        str(available / '[!m]*'): [str(available / 'other.conf')],
        # the dangling link is matched
        str(enabled / '*.conf'): [str(enabled / n) for n in ('modwsgi-gone.conf', 'modwsgi-hello.conf')],
        str(enabled / 'modwsgi-gone.conf'): [str(enabled / 'modwsgi-gone.conf')],
        str(sites / 'sites-*' / 'modwsgi-hello.conf'): [str(s / 'modwsgi-hello.conf') for s in (available, enabled)],
        # a directory that is a symbolic link is followed
        str(sites / 'linked-sites' / 'o*'): [str(sites / 'linked-sites' / 'other.conf')],
        # no recursion
        str(sites / 'conf.d' / '**'): [str(sites / 'conf.d' / 'sub')],
        str(sites / 'conf.d' / '**' / '*.conf'): [str(sites / 'conf.d' / 'sub' / 'deep.conf')],
        str(sites / '**' / '*.conf'): sorted(
            [str(d / n) for d in (sites / 'linked-sites', available) for n in ('modwsgi-hello.conf', 'modwsgi-shop.conf',
                                                                               'other.conf')]
            + [str(enabled / n) for n in ('modwsgi-gone.conf', 'modwsgi-hello.conf')]),  # not conf.d/sub/deep.conf
        # nothing
        str(available / '*.load'): [],
        str(sites / 'mods-enabled' / '*.load'): [],
        str(available / 'missing.conf'): [],
        str(available / 'other.conf' / '*'): [],
    }
    result = exit_result(run({'globs': list(patterns)}))
    assert result['apps'] == {}
    assert result['paths'] == {}
    assert result['globs'] == patterns
    assert list(result['globs']) == list(patterns)


def test_unlistable_glob_directory_fails(run, monkeypatch, sites):
    real = os.listdir
    enabled = str(sites / 'sites-enabled')

    def listdir(path):
        if path == enabled:
            raise OSError(errno.EACCES, 'Permission denied', path)
        return real(path)

    monkeypatch.setattr(host_state.os, 'listdir', listdir)
    result = fail_result(run({'globs': [str(sites / 'sites-available' / '*'), enabled + '/*.conf']}))
    assert result['msg'] == 'globs: cannot list %s: Permission denied' % enabled
    assert result['path'] == enabled


def test_glob_without_wildcard_in_an_unreadable_directory_fails(run, monkeypatch, sites):
    path = str(sites / 'sites-enabled' / 'modwsgi-hello.conf')
    deny_lstat(monkeypatch, path)
    result = fail_result(run({'globs': [path]}))
    assert result['msg'] == 'globs: cannot read the status of %s: Permission denied' % path


# ---------------------------------------------------------------------------
# contents
# ---------------------------------------------------------------------------

MANIFEST = b'{"files": ["/etc/apache2/sites-available/modwsgi-hello.conf"]}\n'


def test_contents(run, tmp_path):
    touch(tmp_path / 'manifest.json', data=MANIFEST)
    touch(tmp_path / 'empty.json')
    touch(tmp_path / 'latin1.txt', data=b'caf\xe9 \xff\xfe ok \xc3\xa9\n')
    touch(tmp_path / 'limit', data=b'x' * host_state.MAX_CONTENT)
    (tmp_path / 'dir').mkdir()
    touch(tmp_path / 'dir' / 'nested.json', data=b'{}')
    os.symlink('dir', str(tmp_path / 'dirlink'))
    contents = {
        'manifest.json': MANIFEST.decode('utf-8'),
        'empty.json': '',
        'latin1.txt': u'caf\ufffd \ufffd\ufffd ok \xe9\n',
        'limit': 'x' * host_state.MAX_CONTENT,
        'manifest.json/': MANIFEST.decode('utf-8'),  # a trailing slash is ignored
        'dirlink/nested.json': '{}',  # a directory leading to the file may be a symbolic link
        'missing.json': None,
        'nowhere/missing.json': None,
        'manifest.json/below': None,
    }
    paths = [str(tmp_path / p) + ('/' if p.endswith('/') else '') for p in contents]
    result = exit_result(run({'contents': paths}))
    assert result['apps'] == {}
    assert result['paths'] == {}
    assert result['globs'] == {}
    assert list(result['contents']) == paths
    assert result['contents'] == dict(zip(paths, contents.values()))


def test_contents_with_the_other_parts_and_check_mode(run, hello):
    env = str(hello / 'hello' / 'env.json')
    result = exit_result(run({
        'root': str(hello),
        'apps': [{'name': 'hello'}],
        'paths': [env],
        'globs': [str(hello / 'hello' / '*.json')],
        'contents': [env, str(hello / 'hello' / 'manifest.json')],
        '_ansible_check_mode': True,
    }))
    assert result['apps']['hello']['current_release'] == 'abc123def456'
    assert result['paths'][env]['checksum'] == sha1(ENV_JSON)
    assert result['contents'] == {env: ENV_JSON.decode('utf-8'), str(hello / 'hello' / 'manifest.json'): None}


@pytest.mark.parametrize('name', ['too-big', 'dir', 'link', 'dangling', 'fifo'])
def test_contents_of_anything_but_a_small_regular_file_fails(run, tmp_path, name):
    touch(tmp_path / 'too-big', data=b'x' * (host_state.MAX_CONTENT + 1))
    (tmp_path / 'dir').mkdir()
    touch(tmp_path / 'small.json', data=MANIFEST)
    os.symlink('small.json', str(tmp_path / 'link'))
    os.symlink('nowhere.json', str(tmp_path / 'dangling'))
    if name == 'fifo':
        if not hasattr(os, 'mkfifo'):
            pytest.skip('no FIFOs')
        os.mkfifo(str(tmp_path / 'fifo'))
    path = str(tmp_path / name)
    result = fail_result(run({'contents': [str(tmp_path / 'small.json'), path]}))
    assert result['path'] == path
    if name == 'too-big':
        assert result['msg'] == 'contents: %s is bigger than 65536 bytes, the most the module returns of a file.' % path
    else:
        assert result['msg'] == ('contents: %s is not a regular file (a symbolic link is not followed), so its text '
                                 'cannot be returned.' % path)


def test_contents_of_a_file_that_grew_after_lstat(monkeypatch, tmp_path):
    touch(tmp_path / 'grows', data=b'{}')
    real_open = os.open

    def open_after_growth(path, flags, *args):
        with open(path, 'ab') as handle:
            handle.write(b'x' * host_state.MAX_CONTENT)
        return real_open(path, flags, *args)

    monkeypatch.setattr(host_state.os, 'open', open_after_growth)
    with pytest.raises(host_state.StateError, match='bigger than 65536 bytes'):
        host_state.read_text(str(tmp_path / 'grows'))


@pytest.mark.parametrize('error, outcome', [
    (errno.ENOENT, None),  # removed since the lstat
    (errno.ELOOP, 'is not a regular file'),  # replaced by a symbolic link since the lstat
    (errno.EACCES, 'cannot read'),
])
def test_contents_of_a_file_that_changed_after_lstat(monkeypatch, tmp_path, error, outcome):
    touch(tmp_path / 'f', data=b'x')

    def failing_open(path, flags, *args):
        raise OSError(error, os.strerror(error), path)

    monkeypatch.setattr(host_state.os, 'open', failing_open)
    if outcome is None:
        assert host_state.read_text(str(tmp_path / 'f')) is None
    else:
        with pytest.raises(host_state.StateError, match=outcome):
            host_state.read_text(str(tmp_path / 'f'))


def test_unreadable_contents_fail(run, monkeypatch, tmp_path):
    touch(tmp_path / 'manifest.json', data=MANIFEST)
    path = str(tmp_path / 'manifest.json')

    def denied(name, flags, *args):
        raise OSError(errno.EACCES, 'Permission denied', name)

    monkeypatch.setattr(host_state.os, 'open', denied)
    result = fail_result(run({'contents': [path]}))
    assert result['msg'] == 'contents: cannot read %s: Permission denied' % path
    assert result['path'] == path
    deny_lstat(monkeypatch, path)
    result = fail_result(run({'contents': [path]}))
    assert result['msg'] == 'contents: cannot read the status of %s: Permission denied' % path


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('what', ['releases', 'venvs'])
def test_releases_or_venvs_not_a_directory(run, tmp_path, what):
    app = tmp_path / 'srv' / 'app'
    (tmp_path / 'elsewhere').mkdir()
    app.mkdir(parents=True)
    os.symlink(str(tmp_path / 'elsewhere'), str(app / what))
    result = fail_result(run({'root': str(tmp_path / 'srv'), 'apps': [{'name': 'app'}]}))
    assert result['path'] == str(app / what)
    assert result['msg'].startswith('app: %s is not a directory (a symbolic link is not followed)' % (app / what))


def test_unreadable_directory_fails(run, monkeypatch, hello):
    real_listdir = os.listdir

    def listdir(path):
        if path.endswith('/venvs'):
            raise OSError(errno.EACCES, 'Permission denied', path)
        return real_listdir(path)

    monkeypatch.setattr(host_state.os, 'listdir', listdir)
    result = fail_result(run({'root': str(hello), 'apps': [{'name': 'hello'}]}))
    venvs = str(hello / 'hello' / 'venvs')
    assert result['msg'] == 'hello: cannot list %s: Permission denied' % venvs
    assert result['path'] == venvs


@pytest.mark.parametrize('function, name, action', [
    ('lstat', '.modwsgi-release', 'read the status of'),
    ('readlink', 'current', 'read the symbolic link'),
])
def test_unreadable_entry_fails(run, monkeypatch, hello, function, name, action):
    real = getattr(os, function)

    def denied(path, *args, **kwargs):
        if os.path.basename(path) == name:
            raise OSError(errno.EACCES, 'Permission denied', path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(host_state.os, function, denied)
    result = fail_result(run({'root': str(hello), 'apps': [{'name': 'hello'}]}))
    assert result['msg'].startswith('hello: cannot %s %s' % (action, hello / 'hello'))
    assert result['msg'].endswith('/%s: Permission denied' % name)
    assert result['path'].endswith('/' + name)


def test_nothing_asked(run):
    assert exit_result(run({})) == {'changed': False, 'apps': {}, 'paths': {}, 'globs': {}, 'contents': {}}
    # root without apps is not used
    assert exit_result(run({'root': '/nonexistent', 'apps': []}))['apps'] == {}


@pytest.mark.parametrize('args, message', [
    ({'apps': [{'name': 'a'}]}, 'root is required when apps is not empty (the apps live in <root>/<name>).'),
    ({'root': 'srv', 'apps': [{'name': 'a'}]}, "root must be an absolute path, not 'srv'."),
    ({'root': 'srv'}, "root must be an absolute path, not 'srv'."),
    ({'root': '/srv', 'apps': [{'name': 'a'}, {'name': 'a'}]}, "apps: the app name 'a' is given more than once."),
    ({'root': '/srv', 'apps': [{'name': ''}]}, "apps: '' is not a valid app name"),
    ({'root': '/srv', 'apps': [{'name': 'a/b'}]}, "apps: 'a/b' is not a valid app name"),
    ({'root': '/srv', 'apps': [{'name': '..'}]}, "apps: '..' is not a valid app name"),
    ({'root': '/srv', 'apps': [{'name': 'a', 'release_marker': 'x/y'}]},
     "apps (a): release_marker must be a file name, not 'x/y'."),
    ({'root': '/srv', 'apps': [{'name': 'a', 'verified_marker': ''}]},
     "apps (a): verified_marker must be a file name, not ''."),
    ({'root': '/srv', 'apps': [{'name': 'a', 'venv_marker_prefix': '..'}]},
     "apps (a): venv_marker_prefix must be a file name, not '..'."),
    ({'root': '/srv', 'apps': [{'user': 'x'}]}, 'name'),
    ({'root': '/srv', 'apps': [{'name': 'a', 'files': ['env.json']}]}, 'files'),
    ({'root': '/srv', 'apps': [{'name': 'a', 'dirs': ['data']}]}, 'dirs'),
    ({'paths': ['/etc/apache2', 'etc/apache2/ports.conf']}, "paths: 'etc/apache2/ports.conf' is not an absolute path."),
    ({'paths': ['']}, "paths: '' is not an absolute path."),
    ({'globs': ['/etc/*.conf', '*.conf']}, "globs: '*.conf' is not an absolute pattern."),
    ({'contents': ['/var/lib/modwsgi/a.json', 'a.json']}, "contents: 'a.json' is not an absolute path."),
    ({'contents': ['']}, "contents: '' is not an absolute path."),
])
def test_bad_arguments(run, args, message):
    result = fail_result(run(args))
    assert message in result['msg']
