# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Render the roles' variables outside a play, as ansible-core renders them inside one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pathlib

import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 (no data tagging): every string is a template already
    def trust_as_template(value):
        return value

ROLES = pathlib.Path(__file__).resolve().parents[2] / 'roles'


def trusted(value):
    """Role vars are templates: trust every string in them, as ansible-core does for a role's own files."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return dict((key, trusted(item)) for key, item in value.items())
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


class RoleVars(object):
    """The variables of role files (relative to roles/, later files win) plus overrides."""

    def __init__(self, *files, **overrides):
        variables = {}
        for name in files:
            variables.update(yaml.safe_load((ROLES / name).read_text()))
        variables.update(overrides)
        self.templar = Templar(loader=DataLoader(), variables=trusted(variables))

    def __getitem__(self, name):
        return self.templar.template(trust_as_template('{{ %s }}' % name))

    def override(self, **values):
        self.templar.available_variables = dict(self.templar.available_variables, **trusted(values))
