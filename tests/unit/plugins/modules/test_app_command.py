# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pwd
import shutil
import sys
import tempfile
import time

import pytest

from ansible_collections.modwsgi.deploy.plugins.module_utils import run_as
from ansible_collections.modwsgi.deploy.plugins.modules import app_command
from ansible_collections.modwsgi.deploy.tests.unit.plugins.modules.module_harness import (
    AnsibleExitJson, AnsibleFailJson, module_args, run_main)


# ---------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('command, expected', [
    ('/bin/echo hello world', ['/bin/echo', 'hello', 'world']),
    ('  manage.py   migrate  ', ['manage.py', 'migrate']),
    ('''echo "two words" 'single ${X}' a\\ b''', ['echo', 'two words', 'single ${X}', 'a b']),
    ('echo a|b >c *', ['echo', 'a|b', '>c', '*']),
    ('echo ""', ['echo', '']),
])
def test_split_command(command, expected):
    assert app_command.split_command(command) == expected


@pytest.mark.parametrize('command, message', [
    ('', 'command is empty.'),
    ('   ', 'command is empty.'),
    ('echo "open', 'cannot be split into arguments: No closing quotation.'),
])
def test_split_command_refuses(command, message):
    with pytest.raises(app_command.CommandFailed) as excinfo:
        app_command.split_command(command)
    assert message in excinfo.value.msg


def test_expand_replaces_known_names_only():
    values = {'A': 'a-value', 'SECRET': 's3cr3t', 'EMPTY': ''}
    args = ['${A}', 'x=${A}/${SECRET}', '$A', '${UNKNOWN}', '${}', '$${A}', '${A', '${EMPTY}|', '${A}${A}']
    assert app_command.expand(args, values) == [
        'a-value', 'x=a-value/s3cr3t', '$A', '${UNKNOWN}', '${}', '$a-value', '${A', '|', 'a-valuea-value']


def test_expand_does_not_expand_twice():
    assert app_command.expand(['${A}'], {'A': '${B}', 'B': 'b'}) == ['${B}']


def test_secrets_to_mask_skips_trivial_values_longest_first():
    secrets = app_command.secrets_to_mask({'A': 'abc', 'B': 'abcdef', 'C': 'on', 'D': 'TRUE', 'E': '1', 'F': 'abc'})
    assert secrets == ['abcdef', 'abc']
    assert app_command.mask('x abcdef abc abcd on', secrets) == 'x ******** ******** ********d on'


def test_exit_message():
    assert app_command.exit_message('`false`', 1) == '`false` exited with 1'
    assert app_command.exit_message('`x`', -9) == '`x` was killed by signal 9 (SIGKILL)'


# ---------------------------------------------------------------------------
# module_utils/run_as.py
# ---------------------------------------------------------------------------

def test_resolve_user():
    assert run_as.resolve_user(None) is None
    assert run_as.resolve_user('') is None
    me = pwd.getpwuid(os.geteuid())
    user = run_as.resolve_user(me.pw_name)
    assert (user.name, user.uid, user.gid, user.home) == (me.pw_name, me.pw_uid, me.pw_gid, me.pw_dir)
    assert user.switch is False  # itself: nothing to switch, root or not


def test_resolve_user_refuses():
    with pytest.raises(run_as.RunAsError) as excinfo:
        run_as.resolve_user('no-such-user-app-command')
    assert excinfo.value.msg == "run_as: the user 'no-such-user-app-command' does not exist."
    assert excinfo.value.stage == 'setup' and excinfo.value.extra == {}


def test_resolve_user_needs_root_for_another_user(monkeypatch):
    monkeypatch.setattr(run_as.os, 'geteuid', lambda: 54321)
    with pytest.raises(run_as.RunAsError) as excinfo:
        run_as.resolve_user('root')
    assert excinfo.value.msg == 'run_as=root needs root privileges (the module runs as uid 54321): use become.'


def test_make_preexec_switches_group_then_groups_then_user(monkeypatch):
    calls = []
    monkeypatch.setattr(run_as.os, 'setgid', lambda gid: calls.append(('setgid', gid)))
    monkeypatch.setattr(run_as.os, 'initgroups', lambda name, gid: calls.append(('initgroups', name, gid)))
    monkeypatch.setattr(run_as.os, 'setuid', lambda uid: calls.append(('setuid', uid)))
    run_as.make_preexec(run_as.RunAs('app', 1001, 1002, '/home/app', switch=True))()
    assert calls == [('setgid', 1002), ('initgroups', 'app', 1002), ('setuid', 1001)]
    del calls[:]
    run_as.make_preexec(None)()
    run_as.make_preexec(run_as.RunAs('me', 1000, 1000, '/home/me', switch=False))()
    assert calls == []


def test_child_environment(monkeypatch):
    monkeypatch.setenv('PYTHONPATH', '/elsewhere')
    monkeypatch.setenv('PYTHONHOME', '/elsewhere')
    monkeypatch.setenv('VIRTUAL_ENV', '/elsewhere')
    monkeypatch.setenv('KEEP_ME', 'yes')
    env = run_as.child_environment(run_as.RunAs('app', 1001, 1002, '/home/app', switch=True))
    assert not [name for name in env if name.startswith('PYTHON') or name == 'VIRTUAL_ENV']
    assert env['KEEP_ME'] == 'yes'
    assert (env['HOME'], env['USER'], env['LOGNAME']) == ('/home/app', 'app', 'app')
    assert run_as.child_environment(None)['HOME'] == os.environ['HOME']


def test_env_strings():
    assert run_as.env_strings({'A': 'x', 'B': 1, 'C': True, 'D': None}) == {'A': 'x', 'B': '1', 'C': 'true', 'D': ''}


def test_relax_masking():
    class FakeModule(object):
        params = {'command': 'x', 'env': {'A': 'a'}, 'secret_env': {'T': 's3cr3t', 'D': 0, 'F': 'Off', 'N': None}}
        no_log_values = set(['s3cr3t', '0', 'Off', ''])

    module = FakeModule()
    invocation = run_as.relax_masking(module)
    assert module.no_log_values == set(['s3cr3t'])
    assert invocation == {'module_args': {
        'command': 'x', 'env': {'A': 'a'},
        'secret_env': dict.fromkeys(['T', 'D', 'F', 'N'], 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER')}}
    assert module.params['secret_env']['T'] == 's3cr3t'  # the parameters themselves are left alone


# ---------------------------------------------------------------------------
# main() end to end, with real processes
# ---------------------------------------------------------------------------

@pytest.fixture
def run_module(monkeypatch, tmp_path):
    warnings = []

    def run(args):
        args = dict(args)
        args.setdefault('chdir', str(tmp_path))
        result = run_main(monkeypatch, app_command, args, warnings)
        assert warnings == []
        return result

    return run


def sh(script):
    """A command line running script with sh -c (the script in single quotes)."""
    assert "'" not in script
    return "sh -c '%s'" % script


def test_runs_a_command(run_module, tmp_path):
    result = run_module({'command': '/bin/echo hello "big   world"'})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['changed'] is True
    assert result.result['rc'] == 0
    assert result.result['stdout'] == 'hello big   world'  # without the trailing newline
    assert result.result['stdout_lines'] == ['hello big   world']
    assert result.result['stderr'] == '' and result.result['stderr_lines'] == []
    assert result.result['cmd'] == ['/bin/echo', 'hello', 'big   world']
    assert 'msg' not in result.result


def test_no_shell_processing(run_module, tmp_path):
    (tmp_path / 'a.txt').write_text('')
    result = run_module({'command': 'echo *.txt | cat > out; $HOME'})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout'] == '*.txt | cat > out; $HOME'
    assert not (tmp_path / 'out').exists()


def test_command_in_path_of_env_and_relative_to_chdir(run_module, tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    tool = bin_dir / 'tool'
    tool.write_text('#!/bin/sh\necho "tool in $(pwd)"\n')
    tool.chmod(0o755)
    result = run_module({'command': 'tool', 'env': {'PATH': '%s:/usr/bin:/bin' % bin_dir}})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout'] == 'tool in %s' % tmp_path
    result = run_module({'command': './tool', 'chdir': str(bin_dir)})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout'] == 'tool in %s' % bin_dir


def test_chdir_and_stdin(run_module, tmp_path):
    result = run_module({'command': sh('pwd; cat; echo "stdin ended"')})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout_lines'] == [str(tmp_path), 'stdin ended']


def test_stdout_and_stderr_are_separate(run_module):
    result = run_module({'command': sh('echo out1; echo err1 >&2; echo out2; printf "err2\\n\\n" >&2')})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout_lines'] == ['out1', 'out2']
    assert result.result['stderr'] == 'err1\nerr2'


def test_expansion_of_env_and_secret_env(run_module):
    result = run_module({
        'command': '/bin/echo ${GREETING} ${NAME}! ${UNKNOWN} $GREETING ${COUNT} ${FLAG}',
        'env': {'GREETING': 'hello', 'NAME': 'plain', 'COUNT': 3, 'FLAG': True},
        'secret_env': {'NAME': 'world'},  # secret_env wins
    })
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout'] == 'hello ********! ${UNKNOWN} $GREETING 3 true'
    assert result.result['cmd'] == ['/bin/echo', '${GREETING}', '${NAME}!', '${UNKNOWN}', '$GREETING', '${COUNT}',
                                    '${FLAG}']


def test_expanded_argument_is_passed_as_one_argument(run_module):
    result = run_module({'command': sh('echo "$#:$1"') + ' sh ${WORDS}', 'env': {'WORDS': 'a b  c'}})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout'] == '1:a b  c'


def test_environment(monkeypatch, run_module):
    monkeypatch.setenv('PYTHONDONTWRITEBYTECODE', '1')
    monkeypatch.setenv('PYTHONPATH', '/elsewhere')
    monkeypatch.setenv('VIRTUAL_ENV', '/elsewhere')
    monkeypatch.setenv('KEEP_ME', 'kept')
    monkeypatch.setenv('OVERRIDE_ME', 'old')
    result = run_module({'command': 'env', 'env': {'OVERRIDE_ME': 'new', 'PYTHONUNBUFFERED': 1, 'BOTH': 'env'},
                         'secret_env': {'BOTH': 'secret-wins', 'TOKEN': 'tok-123'}})
    assert isinstance(result, AnsibleExitJson), result.result
    env = dict(line.split('=', 1) for line in result.result['stdout_lines'] if '=' in line)
    assert sorted(name for name in env if name.startswith('PYTHON')) == ['PYTHONUNBUFFERED']
    assert env['PYTHONUNBUFFERED'] == '1'
    assert 'VIRTUAL_ENV' not in env
    assert env['KEEP_ME'] == 'kept' and env['OVERRIDE_ME'] == 'new'
    assert env['BOTH'] == '********' and env['TOKEN'] == '********'  # masked in the output, set in the process


def test_secret_env_reaches_the_process(run_module):
    result = run_module({'command': sh('test "$TOKEN" = tok-123 && test "$1" = tok-123 && echo same') + ' sh ${TOKEN}',
                         'secret_env': {'TOKEN': 'tok-123'}})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout'] == 'same'


def test_secrets_are_masked_in_stdout_stderr_and_msg(run_module):
    secret_env = {'TOKEN': 's3cr3t-value', 'DEBUG': '1', 'FEATURE': 'On', 'NAME': 'abc'}
    result = run_module({'command': sh('echo "$TOKEN $DEBUG $FEATURE $NAME"; echo "x$1x" >&2; exit 4') + ' sh ${TOKEN}',
                         'secret_env': secret_env})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stdout'] == '******** 1 On ********'
    assert result.result['stdout_lines'] == ['******** 1 On ********']
    assert result.result['stderr'] == 'x********x' and result.result['stderr_lines'] == ['x********x']
    assert result.result['cmd'][-1] == '${TOKEN}'
    assert 's3cr3t-value' not in json.dumps(result.result)

    # An error of the system that names the expanded command.
    result = run_module({'command': '${TOKEN}/bin/tool --name ${NAME}', 'secret_env': secret_env})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['msg'] == 'could not run `${TOKEN}/bin/tool --name ${NAME}`: ********/bin/tool does not exist'
    assert result.result['cmd'] == ['${TOKEN}/bin/tool', '--name', '${NAME}']
    assert 's3cr3t-value' not in json.dumps(result.result)


def test_real_exit_path_hides_secrets(tmp_path, capsys):
    # No patching: Ansible's own masking and the invocation, on top of the module's.
    args = {'command': sh('echo "token=$TOKEN debug=$DEBUG"; exit 1'), 'chdir': str(tmp_path),
            'env': {'APP_NAME': 'hello'}, 'secret_env': {'TOKEN': 's3cr3t-value', 'DEBUG': 'no'}}
    with module_args(args):
        with pytest.raises(SystemExit):
            app_command.main()
    out = capsys.readouterr().out
    result = json.loads(out[out.index('{'):])
    assert result['failed'] is True and result['rc'] == 1
    assert 's3cr3t-value' not in out
    assert result['stdout'] == 'token=******** debug=no'
    assert result['invocation']['module_args']['secret_env'] == dict.fromkeys(
        ['TOKEN', 'DEBUG'], 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER')
    assert result['invocation']['module_args']['env'] == {'APP_NAME': 'hello'}


def test_non_zero_exit_fails(run_module):
    command = sh('echo partial; echo "it broke" >&2; exit 3')
    result = run_module({'command': command})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['msg'] == '`%s` exited with 3' % command
    assert result.result['rc'] == 3
    assert result.result['changed'] is True
    assert result.result['stdout'] == 'partial'
    assert result.result['stderr_lines'] == ['it broke']
    assert result.result['cmd'] == ['sh', '-c', 'echo partial; echo "it broke" >&2; exit 3']


def test_killed_by_a_signal_fails(run_module):
    result = run_module({'command': sh('kill -TERM $$')})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['rc'] == -15
    assert result.result['msg'].endswith('was killed by signal 15 (SIGTERM)')


def test_missing_command(run_module):
    result = run_module({'command': 'no-such-command-app-command --help', 'env': {'PATH': '/nonexistent:/bin'}})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['msg'] == ('could not run `no-such-command-app-command --help`: no-such-command-app-command '
                                    'was not found in PATH (/nonexistent:/bin)')
    assert result.result['rc'] == 2
    assert result.result['stdout'] == '' and result.result['stderr'] == ''
    assert result.result['cmd'] == ['no-such-command-app-command', '--help']
    assert result.result.get('changed', False) is False


def test_missing_command_path(run_module, tmp_path):
    result = run_module({'command': './bin/missing'})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['msg'] == 'could not run `./bin/missing`: ./bin/missing does not exist'
    assert result.result['rc'] == 2


def test_command_that_is_not_executable(run_module, tmp_path):
    (tmp_path / 'script').write_text('echo hi\n')
    result = run_module({'command': './script'})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['msg'].startswith('could not run `./script`: ./script is not executable')


def test_missing_chdir(run_module, tmp_path):
    missing = str(tmp_path / 'missing')
    result = run_module({'command': '/bin/echo hi', 'chdir': missing})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['msg'] == 'could not run `/bin/echo hi`: the directory %s (chdir) does not exist' % missing
    assert result.result['rc'] == 2
    assert result.result.get('changed', False) is False


def _gone(pid, within=10.0):
    """Whether the process is gone (or a zombie nobody reaped yet) within some seconds."""
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            with open('/proc/%d/stat' % pid) as handle:
                if handle.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X'):
                    return True
        except (IOError, OSError):
            try:
                os.kill(pid, 0)
            except OSError:
                return True
        time.sleep(0.1)
    return False


def test_timeout_kills_the_process_group(run_module):
    start = time.time()
    result = run_module({'command': sh('sleep 300 & echo $!; echo started >&2; sleep 300'), 'timeout': 1})
    elapsed = time.time() - start
    assert isinstance(result, AnsibleFailJson)
    assert elapsed < 30
    assert result.result['msg'] == ("`sh -c 'sleep 300 & echo $!; echo started >&2; sleep 300'` did not finish "
                                    "within 1 second; its process group was killed.")
    assert result.result['rc'] == -9
    assert result.result['changed'] is True
    assert result.result['stderr'] == 'started'
    background = int(result.result['stdout'])
    assert _gone(background), 'the background process %d is still running' % background


def test_timeout_zero_means_no_limit(run_module):
    result = run_module({'command': sh('sleep 1.5; echo done'), 'timeout': 0})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout'] == 'done'


def test_timeout_that_is_not_reached(run_module):
    result = run_module({'command': sh('echo quick'), 'timeout': 30})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout'] == 'quick'


@pytest.mark.parametrize('args, message', [
    ({'command': ''}, 'command is empty.'),
    ({'command': '/bin/true', 'timeout': -1}, 'timeout must be 0 (no time limit) or a number of seconds, not -1.'),
    ({'command': '/bin/true', 'env': {'A=B': 'x'}}, "env: 'A=B' is not a valid environment variable name"),
    ({'command': '/bin/true', 'secret_env': {'TOKEN': 'a\x00b'}},
     "secret_env: 'TOKEN' is not a valid environment variable name, or its value contains a NUL character."),
])
def test_bad_arguments(run_module, args, message):
    result = run_module(args)
    assert isinstance(result, AnsibleFailJson)
    assert message in result.result['msg']
    assert 'rc' not in result.result


def test_check_mode_skips_the_command(run_module, tmp_path):
    result = run_module({'command': 'touch ran', '_ansible_check_mode': True})
    assert isinstance(result, AnsibleExitJson)
    assert result.result['skipped'] is True
    assert not (tmp_path / 'ran').exists()


def test_run_as_unknown_user(run_module):
    result = run_module({'command': '/bin/true', 'run_as': 'no-such-user-app-command'})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['msg'] == "could not run `/bin/true`: run_as: the user 'no-such-user-app-command' does not exist."
    assert result.result['cmd'] == ['/bin/true']


def test_run_as_other_user_needs_root(monkeypatch, run_module):
    monkeypatch.setattr(run_as.os, 'geteuid', lambda: 54321)
    result = run_module({'command': '/bin/true', 'run_as': 'root'})
    assert isinstance(result, AnsibleFailJson)
    assert 'needs root privileges' in result.result['msg']


def test_run_as_the_current_user(run_module):
    me = pwd.getpwuid(os.geteuid())
    result = run_module({'command': sh('id -u; echo "$HOME $USER $LOGNAME"'), 'run_as': me.pw_name})
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['stdout_lines'] == [str(me.pw_uid), '%s %s %s' % (me.pw_dir, me.pw_name, me.pw_name)]


def _nobody():
    try:
        return pwd.getpwnam('nobody')
    except KeyError:
        return None


@pytest.mark.skipif(os.geteuid() != 0 or _nobody() is None, reason='needs root and a nobody user')
def test_run_as_nobody(run_module):
    nobody = _nobody()
    # tmp_path is private to root: use a directory nobody may enter, and one it may not.
    top = tempfile.mkdtemp(prefix='app-command-test-')
    try:
        os.chmod(top, 0o755)
        result = run_module({'command': sh('id -u; id -g; echo "$HOME $USER $LOGNAME"; pwd; echo "$FROM_ENV"'),
                             'chdir': top, 'run_as': 'nobody', 'env': {'FROM_ENV': 'set'}})
        assert isinstance(result, AnsibleExitJson), result.result
        assert result.result['stdout_lines'] == [
            str(nobody.pw_uid), str(nobody.pw_gid), '%s nobody nobody' % nobody.pw_dir, top, 'set']

        # env may set HOME otherwise (the app role points it at the app's data directory).
        result = run_module({'command': sh('echo "$HOME"'), 'chdir': top, 'run_as': 'nobody', 'env': {'HOME': top}})
        assert isinstance(result, AnsibleExitJson), result.result
        assert result.result['stdout'] == top

        # The directory is entered as the user: one only root may enter is refused, with the reason.
        private = os.path.join(top, 'private')
        os.mkdir(private, 0o700)
        result = run_module({'command': '/bin/true', 'chdir': private, 'run_as': 'nobody'})
        assert isinstance(result, AnsibleFailJson)
        assert result.result['msg'] == 'could not run `/bin/true` as nobody: cannot change into %s: Permission denied' \
            % private
        assert result.result['rc'] == 13
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_module_imports_only_what_it_ships():
    # AnsiballZ ships the module_utils the module imports; run_as must be one of them.
    assert app_command.resolve_user is run_as.resolve_user
    assert sys.modules[app_command.relax_masking.__module__] is run_as
