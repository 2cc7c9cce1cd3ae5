# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running a child process as another user, and keeping trivial secret_env values visible in the output.

Shared by the modules that start processes for an app (wsgi_check, app_command): resolve_user() looks the run_as
user up and checks that the module may switch to it, make_preexec() gives the function that switches a child to it
before exec, child_environment() the environment such a child starts from, and relax_masking() stops Ansible from
hiding secret_env values that cannot be secrets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd

from ansible.module_utils.common.text.converters import to_native


# secret_env values that are not hidden in the output (see relax_masking).
TRIVIAL_VALUES = frozenset(['true', 'false', 'yes', 'no', 'on', 'off', 'none', 'null'])


class RunAsError(Exception):
    """The run_as user does not exist, or the module may not switch to it.

    Like the modules' own failure classes, it has `msg`, and `stage` ('setup') and `extra` ({}) for modules that
    report a stage.
    """

    stage = 'setup'

    def __init__(self, msg):
        super(RunAsError, self).__init__(msg)
        self.msg = msg
        self.extra = {}


class RunAs(object):
    def __init__(self, name, uid, gid, home, switch):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.switch = switch  # whether the child must change its identity


def resolve_user(name):
    """Return a RunAs for the user, or None without a user. Raises RunAsError."""
    if not name:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise RunAsError('run_as: the user %r does not exist.' % name)
    euid = os.geteuid()
    if euid != 0 and entry.pw_uid != euid:
        raise RunAsError('run_as=%s needs root privileges (the module runs as uid %d): use become.' % (name, euid))
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir, switch=(euid == 0 and entry.pw_uid != 0))


def make_preexec(user):
    """Return the function run in the child before exec: drop to the user's uid, gid and groups."""
    def preexec():
        if user is not None and user.switch:
            os.setgid(user.gid)
            os.initgroups(user.name, user.gid)
            os.setuid(user.uid)
    return preexec


def child_environment(user):
    """The module's environment without PYTHON* and VIRTUAL_ENV, with HOME, USER and LOGNAME of the user."""
    env = dict((name, value) for name, value in os.environ.items()
               if not name.startswith('PYTHON') and name != 'VIRTUAL_ENV')
    if user is not None:
        env.update(HOME=user.home, USER=user.name, LOGNAME=user.name)
    return env


def env_strings(env):
    """An env option as a dict of str; None becomes the empty string, booleans 'true'/'false'."""
    result = {}
    for name, value in (env or {}).items():
        if value is None:
            value = ''
        elif isinstance(value, bool):
            value = 'true' if value else 'false'
        result[to_native(name)] = to_native(value, nonstring='simplerepr')
    return result


def is_trivial(value):
    """Whether a secret_env value cannot be a secret: shorter than three characters, or a word like 'true'."""
    return len(value) < 3 or value.lower() in TRIVIAL_VALUES


def relax_masking(module):
    """Stop Ansible from hiding trivial secret_env values ('1', 'on', 'true') everywhere in the output.

    They cannot be secrets, and hiding them garbles status lines, line numbers and versions. All secret_env values
    stay hidden in the returned invocation.
    """
    for value in env_strings(module.params['secret_env']).values():
        if is_trivial(value):
            module.no_log_values.discard(value)
    module_args = dict(module.params)
    module_args['secret_env'] = dict(
        (name, 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER') for name in module.params['secret_env'] or {})
    return {'module_args': module_args}
