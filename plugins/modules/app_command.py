#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
---
module: app_command
short_description: Run one command of an application as its user, keeping its secrets out of the output
version_added: 0.3.0
description:
  - Runs one command of an application, such as its database migration, in a working directory, as the user
    O(run_as), with O(env) and O(secret_env) in its environment, and fails when it exits with a non-zero status,
    cannot be started, or does not finish within O(timeout) seconds.
  - The P(modwsgi.deploy.app#role) role runs the C(setup) and C(pre_switch) commands of an app with it.
  - Unlike M(ansible.builtin.command) with the C(environment) keyword and C(become_user), the environment is
    passed to the target inside the module's arguments and never on a command line, so the values of O(secret_env)
    appear nowhere in Ansible's output, at any verbosity.
  - The command is split into arguments with C(shlex), as M(ansible.builtin.command) does, and run without a
    shell, so globbing (C(*)), pipes (C(|)), redirection (C(<), C(>)), C(;) and C(&) do not work. Wrap the command
    in C(sh -c '...') when it needs them.
  - After splitting, C(${NAME}) in each argument is replaced with the value of the variable C(NAME) when C(NAME)
    is a key of O(secret_env) or O(env) (O(secret_env) wins). Any other C($), C($NAME) or C(${...}) is left as it
    is written. Quoting does not stop the replacement.
  - The command is looked up in the C(PATH) of its own environment (after O(env) and O(secret_env) are applied)
    when its name has no C(/); a name with a C(/) is relative to O(chdir).
  - A command always counts as a change.
author: modwsgi.deploy contributors (!UNKNOWN)
options:
  command:
    description:
      - The command line to run, for example V(bin/manage.py migrate --noinput) or
        V(flask --app hello db upgrade).
      - It is split into arguments as by a POSIX shell (quotes and backslashes), without any other shell
        processing.
    type: str
    required: true
  chdir:
    description:
      - Working directory of the command. It must exist.
      - With O(run_as), the command changes into it as that user, so the user needs access to it.
    type: path
    required: true
  env:
    description:
      - Environment variables of the command, set on top of the module's environment. Values are converted to
        strings (V(true) and V(false) for booleans, the empty string for V(null)).
      - Variables of the module's environment whose names start with C(PYTHON), and C(VIRTUAL_ENV), are not passed
        on; set them here to pass them.
      - Use O(secret_env) for values that must not appear in the output.
    type: dict
    default: {}
  secret_env:
    description:
      - Like O(env), for secrets; set after O(env), so a name in both takes this value.
      - The values are never returned, and are replaced with C(********) wherever they appear in the output of the
        command and in the message of a failure. Values shorter than three characters and the words V(true),
        V(false), V(yes), V(no), V(on), V(off), V(none) and V(null) (in any case) are not hidden, as they cannot be
        secrets and hiding them would garble status lines, line numbers and versions.
      - A value put into an argument with C(${NAME}) can be seen in the target's process list while the command
        runs; let the command read the variable from its environment to avoid that.
    type: dict
    default: {}
  run_as:
    description:
      - Name of the user to run the command as, with its primary group and supplementary groups; C(HOME), C(USER)
        and C(LOGNAME) are set for that user (O(env) and O(secret_env) may set them otherwise).
      - Needs root privileges unless it names the user the module already runs as.
      - When omitted, the command runs as the user the module runs as.
    type: str
  timeout:
    description:
      - Seconds the command may take. When they are exceeded, the command's process group (the command and every
        process it started that stayed in its group) is killed and the module fails, saying so.
      - V(0) means no time limit.
    type: int
    default: 0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: none
    details: In check mode the task is skipped and the command is not run.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Standard input of the command is C(/dev/null); its standard output and error are returned separately, without
    their trailing newlines.
  - The command runs in a new session and process group.
seealso:
  - module: ansible.builtin.command
  - module: modwsgi.deploy.wsgi_check
"""

EXAMPLES = r"""
- name: Apply the database migrations of the new release, as the app's user
  modwsgi.deploy.app_command:
    command: venv/bin/python src/manage.py migrate --noinput
    chdir: /srv/modwsgi/shop/releases/42
    run_as: shop
    env:
      DJANGO_SETTINGS_MODULE: shop.settings.production
    secret_env:
      DATABASE_URL: "{{ vault_shop_database_url }}"
    timeout: 600
  become: true

- name: Pass a value as an argument (visible in the process list while the command runs)
  modwsgi.deploy.app_command:
    command: bin/create-admin --email "${ADMIN_EMAIL}" --password-from-env ADMIN_PASSWORD
    chdir: /srv/modwsgi/blog/releases/7/src
    run_as: blog
    env:
      ADMIN_EMAIL: admin@example.com
      PATH: /srv/modwsgi/blog/releases/7/venv/bin:/usr/bin:/bin
    secret_env:
      ADMIN_PASSWORD: "{{ vault_blog_admin_password }}"
  become: true
  register: blog_admin

- name: Show what the command printed
  ansible.builtin.debug:
    var: blog_admin.stdout_lines
"""

RETURN = r"""
cmd:
  description:
    - The arguments of the command as written, before C(${NAME}) was replaced.
  returned: always, except when O(command) cannot be split
  type: list
  elements: str
  sample: ["bin/create-admin", "--email", "${ADMIN_EMAIL}", "--password-from-env", "ADMIN_PASSWORD"]
rc:
  description:
    - Exit status of the command; a negative number -N when signal N killed it.
    - When the command could not be started, the error number of the reason (V(2) when the command or O(chdir)
      does not exist), as with M(ansible.builtin.command).
  returned: success, and on failure when the command ran or could not be started
  type: int
  sample: 0
stdout:
  description: Standard output of the command, without trailing newlines, with the values of O(secret_env) hidden.
  returned: success, and on failure when the command ran or could not be started
  type: str
  sample: "Operations to perform:\n  Apply all migrations: admin, auth, shop"
stderr:
  description: Standard error of the command, without trailing newlines, with the values of O(secret_env) hidden.
  returned: success, and on failure when the command ran or could not be started
  type: str
  sample: ""
stdout_lines:
  description: RV(stdout) split into lines.
  returned: success, and on failure when the command ran or could not be started
  type: list
  elements: str
  sample: ["Operations to perform:", "  Apply all migrations: admin, auth, shop"]
stderr_lines:
  description: RV(stderr) split into lines.
  returned: success, and on failure when the command ran or could not be started
  type: list
  elements: str
  sample: []
msg:
  description:
    - 'Why the module failed, with the command quoted as written: V(`bin/manage.py migrate` exited with 3),
      V(`bin/manage.py migrate` did not finish within 600 seconds; its process group was killed.), or
      V(could not run `manage.py migrate` as shop: manage.py was not found in PATH (/usr/bin:/bin\)).'
  returned: failure
  type: str
  sample: "`bin/manage.py migrate` exited with 3"
"""

import errno
import os
import re
import shlex
import signal
# module.run_command() cannot be used: the command needs a time limit, its own process group (to kill everything
# it starts) and a switch to another user before exec.
from subprocess import DEVNULL, PIPE, Popen, SubprocessError, TimeoutExpired

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.modwsgi.deploy.plugins.module_utils.run_as import (
    RunAsError, child_environment, env_strings, is_trivial, make_preexec, relax_masking, resolve_user)


MASK = '********'
# Seconds to collect the rest of the output once the process group of a command that timed out was killed.
DRAIN_SECONDS = 5

_REFERENCE = re.compile(r'\$\{([^${}]+)\}')


class CommandFailed(Exception):
    """A failure to report with fail_json."""

    def __init__(self, msg, **extra):
        super(CommandFailed, self).__init__(msg)
        self.msg = msg
        self.extra = extra


# ---------------------------------------------------------------------------
# Pure helpers (no host access); unit tested directly.
# ---------------------------------------------------------------------------

def split_command(command):
    """The arguments of the command line, split as ansible.builtin.command does. Raises CommandFailed."""
    try:
        args = shlex.split(command)
    except ValueError as exc:
        raise CommandFailed('command %r cannot be split into arguments: %s.' % (command, to_native(exc)))
    if not args:
        raise CommandFailed('command is empty.')
    return args


def expand(args, values):
    """Replace ${NAME} in each argument with values[NAME]; any other ${...} stays as written."""
    def replace(match):
        return values.get(match.group(1), match.group(0))
    return [_REFERENCE.sub(replace, arg) for arg in args]


def secrets_to_mask(secret_env):
    """The secret_env values to hide in the output, longest first (so that no part of a longer one is left)."""
    return sorted(set(value for value in secret_env.values() if not is_trivial(value)), key=lambda v: (-len(v), v))


def mask(text, secrets):
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def output_text(data):
    """Captured output as text without its trailing newlines, as ansible.builtin.command returns it."""
    return to_text(data or b'', errors='surrogate_or_replace').rstrip('\r\n')


def exit_message(quoted, rc):
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = 'signal %d' % -rc
        return '%s was killed by signal %d (%s)' % (quoted, -rc, name)
    return '%s exited with %d' % (quoted, rc)


def start_reason(exc, argv, env):
    """Why Popen could not start the command, in words. It may name expanded arguments: main() masks the secrets."""
    program = argv[0]
    if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
        if '/' in program:
            return '%s does not exist' % program
        return '%s was not found in PATH (%s)' % (program, env.get('PATH', os.defpath))
    if isinstance(exc, OSError) and exc.errno == errno.EACCES:
        return '%s is not executable (permission denied)' % program
    if isinstance(exc, OSError) and exc.errno == errno.ENOEXEC:
        return '%s is not a program the system can run (no #! line?)' % program
    if isinstance(exc, ValueError):
        return 'an argument or environment variable contains a NUL character'
    return to_native(exc)


# ---------------------------------------------------------------------------
# Host access
# ---------------------------------------------------------------------------

def make_child_setup(user, chdir, report_fd):
    """The function run in the child before exec: switch to the user, then change into chdir as that user.

    Python only says that the function failed, so the reason goes to report_fd first, as "<errno>:<text>".
    """
    switch = make_preexec(user)

    def child_setup():
        step = 'switch to the user %s' % user.name if user is not None else ''
        try:
            switch()
            step = 'change into %s' % chdir
            os.chdir(chdir)
        except OSError as exc:
            os.write(report_fd, to_bytes('%d:cannot %s: %s' % (exc.errno or 0, step, exc.strerror or exc),
                                         errors='surrogate_or_replace'))
            raise
    return child_setup


def read_report(report_fd):
    data = b''
    while True:
        chunk = os.read(report_fd, 4096)
        if not chunk:
            return to_text(data, errors='surrogate_or_replace')
        data += chunk


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def run_process(argv, chdir, env, user, timeout):
    """Run the command. Returns (rc, stdout bytes, stderr bytes, timed_out). Raises CommandFailed(rc=errno)."""
    if not os.path.isdir(chdir):
        raise CommandFailed('the directory %s (chdir) does not exist' % chdir, rc=errno.ENOENT)
    report_read, report_write = os.pipe()
    try:
        try:
            proc = Popen(argv, stdin=DEVNULL, stdout=PIPE, stderr=PIPE, env=env, close_fds=True,
                         start_new_session=True, preexec_fn=make_child_setup(user, chdir, report_write))
        except (OSError, SubprocessError, ValueError) as exc:
            os.close(report_write)
            report_write = None
            report = read_report(report_read)
            if report:
                number, dummy, reason = report.partition(':')
                raise CommandFailed(reason, rc=int(number) if number.isdigit() and int(number) else 1)
            raise CommandFailed(start_reason(exc, argv, env), rc=getattr(exc, 'errno', None) or 1)
    finally:
        os.close(report_read)
        if report_write is not None:
            os.close(report_write)

    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout or None)
    except TimeoutExpired:
        timed_out = True
        kill_group(proc.pid)
        try:
            stdout, stderr = proc.communicate(timeout=DRAIN_SECONDS)
        except TimeoutExpired as exc:
            # A process that left the group still holds the output open: keep what arrived.
            stdout, stderr = exc.output, exc.stderr
            for stream in (proc.stdout, proc.stderr):
                stream.close()
            proc.kill()
            proc.wait()
    return proc.returncode, stdout, stderr, timed_out


def run(module):
    params = module.params
    written = split_command(params['command'])
    quoted = '`%s`' % params['command']
    for option in ('env', 'secret_env'):
        for name, value in env_strings(params[option]).items():
            if not name or '=' in name or '\x00' in name or '\x00' in value:
                raise CommandFailed('%s: %r is not a valid environment variable name, or its value contains a NUL '
                                    'character.' % (option, name), cmd=written)
    if params['timeout'] < 0:
        raise CommandFailed('timeout must be 0 (no time limit) or a number of seconds, not %d.' % params['timeout'],
                            cmd=written)

    env = env_strings(params['env'])
    secret_env = env_strings(params['secret_env'])
    values = dict(env, **secret_env)
    secrets = secrets_to_mask(secret_env)
    try:
        user = resolve_user(params['run_as'])
    except RunAsError as exc:
        raise CommandFailed('could not run %s: %s' % (quoted, exc.msg), cmd=written)
    child_env = child_environment(user)
    child_env.update(values)

    try:
        rc, stdout, stderr, timed_out = run_process(expand(written, values), params['chdir'], child_env, user,
                                                    params['timeout'])
    except CommandFailed as exc:
        result = dict(cmd=written, stdout='', stderr='', **exc.extra)
        as_user = ' as %s' % user.name if user is not None else ''
        raise CommandFailed('could not run %s%s: %s' % (quoted, as_user, exc.msg), **result)

    stdout, stderr = mask(output_text(stdout), secrets), mask(output_text(stderr), secrets)
    result = dict(cmd=written, changed=True, rc=rc, stdout=stdout, stderr=stderr, stdout_lines=stdout.splitlines(),
                  stderr_lines=stderr.splitlines())
    if timed_out:
        raise CommandFailed('%s did not finish within %d second%s; its process group was killed.'
                            % (quoted, params['timeout'], '' if params['timeout'] == 1 else 's'), **result)
    if rc != 0:
        raise CommandFailed(exit_message(quoted, rc), **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command=dict(type='str', required=True),
            chdir=dict(type='path', required=True),
            env=dict(type='dict', default={}),
            secret_env=dict(type='dict', default={}, no_log=True),
            run_as=dict(type='str'),
            timeout=dict(type='int', default=0),
        ),
        supports_check_mode=False,
    )
    invocation = relax_masking(module)
    try:
        result = run(module)
    except CommandFailed as exc:
        extra = dict(exc.extra)
        if 'stdout' in extra:
            extra.setdefault('stdout_lines', extra['stdout'].splitlines())
            extra.setdefault('stderr_lines', extra['stderr'].splitlines())
        # The messages may quote what the command printed or its expanded arguments (an error of the system).
        msg = mask(exc.msg, secrets_to_mask(env_strings(module.params['secret_env'])))
        module.fail_json(msg=msg, invocation=invocation, **extra)
    module.exit_json(invocation=invocation, **result)


if __name__ == '__main__':
    main()
