# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kill the whole controller (ansible-playbook and every process it started) right after a named task.

A stand-in for a lost SSH session or a killed CI job in the middle of a deploy. Enabled only by the
rollback scenario's side effect, which runs ansible-playbook in a session of its own (setsid) with
MODWSGI_KILL_AFTER_TASK set to the task's name and MODWSGI_KILL_MARKER to a file this plugin writes
just before the kill, so the test knows the run died where it meant it to.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kill_after_task
type: aggregate
short_description: SIGKILL the controller's process group right after a named task succeeds
description:
  - Test helper for the rollback scenario. Never enable it outside a test.
options: {}
"""

import os
import signal

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'kill_after_task'
    CALLBACK_NEEDS_ENABLED = True

    def v2_runner_on_ok(self, result):
        task = os.environ.get('MODWSGI_KILL_AFTER_TASK', '')
        if not task or result.task_name != task:
            return
        marker = os.environ.get('MODWSGI_KILL_MARKER')
        if marker:
            with open(marker, 'w') as handle:
                handle.write('killed after %s on %s\n' % (task, result._host.get_name()))
        os.killpg(os.getpgrp(), signal.SIGKILL)
