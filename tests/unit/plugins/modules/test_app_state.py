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

import pytest

from ansible_collections.modwsgi.deploy.plugins.modules import app_state
from ansible_collections.modwsgi.deploy.tests.unit.plugins.modules.module_harness import (
    AnsibleExitJson, AnsibleFailJson, run_main)


APP_KEYS = {'exists', 'current', 'previous', 'current_release', 'previous_release', 'current_verified',
            'releases', 'venvs', 'files', 'dirs', 'user', 'group'}
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
        outcome = run_main(monkeypatch, app_state, args, warnings)
        assert warnings == []
        return outcome

    return run_module


def exit_result(outcome):
    assert isinstance(outcome, AnsibleExitJson), outcome.result
    assert outcome.result['changed'] is False
    return outcome.result


def empty_state(**overrides):
    state = {
        'exists': False, 'current': None, 'previous': None, 'current_release': None, 'previous_release': None,
        'current_verified': False, 'releases': {}, 'venvs': {}, 'files': {}, 'dirs': {}, 'user': None, 'group': None,
    }
    state.update(overrides)
    return state


# ---------------------------------------------------------------------------
# A deployed app with every kind of entry
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
    os.symlink('env.json', str(app / 'linked.json'))
    os.symlink(str(tmp_path / 'outside'), str(app / 'outside-link'))
    touch(tmp_path / 'outside', data=b'outside')
    return root


def test_deployed_app(run, hello):
    app = hello / 'hello'
    result = exit_result(run({
        'root': str(hello),
        'apps': [{
            'name': 'hello',
            'user': me()['name'],
            'group': my_group()['name'],
            'files': ['env.json', 'secret_env.json', str(app / 'wsgi' / 'hello.wsgi'), 'empty.json', 'linked.json',
                      'outside-link', 'data', str(hello / 'other' / 'env.json')],
            'dirs': [str(hello), str(app), 'releases', 'venvs', 'data', 'cache', 'wsgi', 'missing', 'current',
                     'env.json'],
        }],
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
        'abc123def456': {'complete': True, 'verified': True, 'mtime': 1700000300.25, 'venv': '5f0e1d2c3b4a'},
        '0123456789ab': {'complete': True, 'verified': False, 'mtime': 1700000100.5, 'venv': '99aa88bb77cc'},
        'ffffeeeedddd': {'complete': False, 'verified': False, 'mtime': 1600000000.75, 'venv': '000000000000'},
        '111111111111': {'complete': True, 'verified': False, 'mtime': 1500000000.0, 'venv': '5f0e1d2c3b4a'},
        '222222222222': {'complete': True, 'verified': False, 'mtime': 1400000000.0, 'venv': None},
        '333333333333': {'complete': True, 'verified': False, 'mtime': 1300000000.0, 'venv': None},
        '444444444444': {'complete': False, 'verified': False, 'mtime': 1200000000.0, 'venv': None},
    }
    for release in state['releases'].values():
        assert isinstance(release['mtime'], float)

    assert state['venvs'] == {
        '5f0e1d2c3b4a': {'complete': True},
        '99aa88bb77cc': {'complete': False},
        'deadbeef0000': {'complete': False},
        'cafe00000000': {'complete': False},
    }

    assert state['files'] == {
        'env.json': sha1(ENV_JSON),
        'secret_env.json': None,
        str(app / 'wsgi' / 'hello.wsgi'): sha1(WSGI_SCRIPT),
        'empty.json': sha1(b''),
        'linked.json': None,
        'outside-link': None,
        'data': None,
        str(hello / 'other' / 'env.json'): None,
    }

    owner = me()['name']
    group = grp.getgrgid(os.getgid()).gr_name

    def directory(mode):
        return {'isdir': True, 'owner': owner, 'group': group, 'mode': mode}

    link_mode = '%04o' % (os.lstat(str(app / 'current')).st_mode & 0o7777)
    assert state['dirs'] == {
        str(hello): directory('0755'),
        str(app): directory('0755'),
        'releases': directory('%04o' % (os.stat(str(app / 'releases')).st_mode & 0o7777)),
        'venvs': directory('%04o' % (os.stat(str(app / 'venvs')).st_mode & 0o7777)),
        'data': directory('0750'),
        'cache': directory('2700'),
        'wsgi': directory('%04o' % (os.stat(str(app / 'wsgi')).st_mode & 0o7777)),
        'missing': None,
        'current': {'isdir': False, 'owner': owner, 'group': group, 'mode': link_mode},
        'env.json': {'isdir': False, 'owner': owner, 'group': group,
                     'mode': '%04o' % (os.stat(str(app / 'env.json')).st_mode & 0o7777)},
    }

    assert state['user'] == me()
    assert state['group'] == my_group()


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
        releases={'r1': {'complete': True, 'verified': False, 'mtime': 1234.5, 'venv': 'v1'}},
        venvs={'v1': {'complete': True}},
    )}

    touch(release / 'OK')
    state = exit_result(run({
        'root': str(root),
        'apps': [{'name': 'shop', 'release_marker': 'DONE', 'venv_marker_prefix': 'READY-', 'verified_marker': 'OK'}],
    }))['apps']['shop']
    assert state['current_verified'] is True
    assert state['releases']['r1']['verified'] is True


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
        releases={'aaaaaaaaaaaa': {'complete': True, 'verified': True, 'mtime': 2000.0, 'venv': None}},
        venvs={'bbbbbbbbbbbb': {'complete': True}},
    )


def test_links_that_are_not_symbolic_links(run, tmp_path):
    root, app = links_app(tmp_path)
    (app / 'current').mkdir()
    touch(app / 'previous', data=b'releases/aaaaaaaaaaaa')
    state = exit_result(run({'root': str(root), 'apps': [{'name': 'links'}]}))['apps']['links']
    assert state == empty_state(
        exists=True,
        releases={'aaaaaaaaaaaa': {'complete': True, 'verified': True, 'mtime': 2000.0, 'venv': None}},
        venvs={'bbbbbbbbbbbb': {'complete': True}},
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
            {'name': 'ghost', 'user': NO_SUCH_USER, 'group': NO_SUCH_GROUP,
             'files': ['env.json', str(tmp_path / 'nowhere.json')], 'dirs': ['data', str(missing)]},
            {'name': 'me', 'user': me()['name'], 'group': my_group()['name']},
        ],
    }
    for root in (missing, tmp_path / 'srv'):
        result = exit_result(run(dict(args, root=str(root))))
        assert result['apps'] == {
            'ghost': empty_state(files={'env.json': None, str(tmp_path / 'nowhere.json'): None},
                                 dirs={'data': None, str(missing): None}),
            'me': empty_state(user=me(), group=my_group()),
        }

    # An app "directory" that is a file does not exist either.
    result = exit_result(run({'root': str(tmp_path / 'srv'), 'apps': [{'name': 'notadir', 'files': ['x']}]}))
    assert result['apps'] == {'notadir': empty_state(files={'x': None})}


def test_user_primary_group_and_owner_without_a_name(run, monkeypatch, tmp_path):
    (tmp_path / 'srv' / 'app' / 'data').mkdir(parents=True)
    user = me()

    def no_names(gid):
        raise KeyError(gid)

    monkeypatch.setattr(app_state.grp, 'getgrgid', no_names)
    monkeypatch.setattr(app_state.pwd, 'getpwuid', no_names)
    state = exit_result(run({'root': str(tmp_path / 'srv'),
                             'apps': [{'name': 'app', 'user': user['name'], 'dirs': ['data']}]}))['apps']['app']
    assert state['user'] == dict(user, group=str(user['gid']))
    assert state['group'] is None
    assert state['dirs'] == {'data': {'isdir': True, 'owner': str(os.getuid()), 'group': str(os.getgid()),
                                      'mode': '%04o' % (os.stat(str(tmp_path / 'srv' / 'app' / 'data')).st_mode
                                                        & 0o7777)}}


def test_several_apps_and_check_mode(run, hello):
    make_release(hello / 'second', 'cccccccccccc', marker_mtime=3000.0, venv='../../venvs/dddddddddddd')
    make_venv(hello / 'second', 'dddddddddddd')
    os.symlink('releases/cccccccccccc', str(hello / 'second' / 'current'))
    result = exit_result(run({
        'root': str(hello),
        'apps': [{'name': 'hello'}, {'name': 'second'}, {'name': 'third'}],
        '_ansible_check_mode': True,
    }))
    assert sorted(result['apps']) == ['hello', 'second', 'third']
    assert result['apps']['hello']['current_release'] == 'abc123def456'
    assert result['apps']['second'] == empty_state(
        exists=True,
        current='releases/cccccccccccc',
        current_release='cccccccccccc',
        releases={'cccccccccccc': {'complete': True, 'verified': False, 'mtime': 3000.0, 'venv': 'dddddddddddd'}},
        venvs={'dddddddddddd': {'complete': True}},
    )
    assert result['apps']['third'] == empty_state()


# ---------------------------------------------------------------------------
# Special files and errors
# ---------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='no FIFOs')
def test_fifo_is_not_read(run, tmp_path):
    (tmp_path / 'srv' / 'app').mkdir(parents=True)
    os.mkfifo(str(tmp_path / 'srv' / 'app' / 'env.json'))
    state = exit_result(run({'root': str(tmp_path / 'srv'),
                             'apps': [{'name': 'app', 'files': ['env.json'], 'dirs': ['env.json']}]}))['apps']['app']
    assert state['files'] == {'env.json': None}
    assert state['dirs']['env.json']['isdir'] is False


def test_file_replaced_by_a_link_after_lstat(monkeypatch, tmp_path):
    touch(tmp_path / 'f', data=b'x')

    def open_loop(path, flags, *args):
        raise OSError(errno.ELOOP, 'Too many levels of symbolic links')

    monkeypatch.setattr(app_state.os, 'open', open_loop)
    assert app_state.sha1_file(str(tmp_path / 'f')) is None


@pytest.mark.parametrize('what', ['releases', 'venvs'])
def test_releases_or_venvs_not_a_directory(run, tmp_path, what):
    app = tmp_path / 'srv' / 'app'
    (tmp_path / 'elsewhere').mkdir()
    app.mkdir(parents=True)
    os.symlink(str(tmp_path / 'elsewhere'), str(app / what))
    outcome = run({'root': str(tmp_path / 'srv'), 'apps': [{'name': 'app'}]})
    assert isinstance(outcome, AnsibleFailJson)
    assert outcome.result['path'] == str(app / what)
    assert outcome.result['msg'].startswith('app: %s is not a directory (a symbolic link is not followed)' % (app / what))


def test_unreadable_directory_fails(run, monkeypatch, hello):
    real_listdir = os.listdir

    def listdir(path):
        if path.endswith('/venvs'):
            raise OSError(errno.EACCES, 'Permission denied', path)
        return real_listdir(path)

    monkeypatch.setattr(app_state.os, 'listdir', listdir)
    outcome = run({'root': str(hello), 'apps': [{'name': 'hello'}]})
    assert isinstance(outcome, AnsibleFailJson)
    venvs = str(hello / 'hello' / 'venvs')
    assert outcome.result['msg'] == 'hello: cannot list %s: Permission denied' % venvs
    assert outcome.result['path'] == venvs


def test_unreadable_file_fails(run, monkeypatch, hello):
    def denied(path, flags, *args):
        raise OSError(errno.EACCES, 'Permission denied', path)

    monkeypatch.setattr(app_state.os, 'open', denied)
    outcome = run({'root': str(hello), 'apps': [{'name': 'hello', 'files': ['env.json']}]})
    assert isinstance(outcome, AnsibleFailJson)
    assert outcome.result['msg'] == 'hello: cannot read %s: Permission denied' % (hello / 'hello' / 'env.json')


@pytest.mark.parametrize('args, message', [
    ({'root': 'srv', 'apps': [{'name': 'a'}]}, "root must be an absolute path, not 'srv'."),
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
    ({'apps': []}, 'root'),
])
def test_bad_arguments(run, args, message):
    outcome = run(args)
    assert isinstance(outcome, AnsibleFailJson)
    assert message in outcome.result['msg']


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

    monkeypatch.setattr(app_state.os, function, denied)
    outcome = run({'root': str(hello), 'apps': [{'name': 'hello'}]})
    assert isinstance(outcome, AnsibleFailJson)
    assert outcome.result['msg'].startswith('hello: cannot %s %s' % (action, hello / 'hello'))
    assert outcome.result['msg'].endswith('/%s: Permission denied' % name)
    assert outcome.result['path'].endswith('/' + name)
