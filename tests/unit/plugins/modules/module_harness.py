# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running a module's main() in-process: its arguments in, its exit_json/fail_json result out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # pragma: no cover - older ansible-core
    patch_module_args = None


class AnsibleExitJson(Exception):
    def __init__(self, kwargs):
        super(AnsibleExitJson, self).__init__(kwargs)
        self.result = kwargs


class AnsibleFailJson(Exception):
    def __init__(self, kwargs):
        super(AnsibleFailJson, self).__init__(kwargs)
        self.result = kwargs


@contextlib.contextmanager
def module_args(args):
    """Make `args` the module's arguments for the duration of the block."""
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
    else:  # pragma: no cover - ansible-core < 2.19
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old


def _exit_json(module_self, **kwargs):
    raise AnsibleExitJson(kwargs)


def _fail_json(module_self, *args, **kwargs):
    if args:
        kwargs['msg'] = args[0]
    raise AnsibleFailJson(kwargs)


def run_main(monkeypatch, module, args, warnings, **methods):
    """Run `module.main()` with `args`; return the AnsibleExitJson or AnsibleFailJson it ended with.

    Warnings go to the `warnings` list; `methods` replace further AnsibleModule methods (e.g. run_command).
    """
    cls = module.AnsibleModule
    monkeypatch.setattr(cls, 'exit_json', _exit_json)
    monkeypatch.setattr(cls, 'fail_json', _fail_json)
    monkeypatch.setattr(cls, 'warn', lambda self, warning: warnings.append(warning))
    for name, method in methods.items():
        monkeypatch.setattr(cls, name, method)
    with module_args(args):
        with pytest.raises((AnsibleExitJson, AnsibleFailJson)) as excinfo:
            module.main()
    return excinfo.value
