# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The few values the app role's tasks read from roles/app/vars/main.yml are the ones its model uses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pathlib
import re

import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 (no data tagging): every string is a template already
    def trust_as_template(value):
        return value

from ansible_collections.modwsgi.deploy.plugins.module_utils import app_model

ROLE_VARS = yaml.safe_load((pathlib.Path(__file__).resolve().parents[2] / 'roles' / 'app' / 'vars' / 'main.yml').read_text())


def test_markers_match_the_model():
    assert ROLE_VARS['__modwsgi_app_release_marker'] == app_model.RELEASE_MARKER
    assert ROLE_VARS['__modwsgi_app_venv_marker'] == app_model.VENV_MARKER
    assert ROLE_VARS['__modwsgi_app_verified_marker'] == app_model.VERIFIED_MARKER


def test_source_exclusions_match_the_model():
    assert ROLE_VARS['__modwsgi_app_source_exclude'] == app_model.SOURCE_EXCLUDE


def test_archive_exclusions_cover_every_level():
    # The patterns tasks/release/source/dir_unpack.yml hands community.general.archive.
    templar = Templar(loader=DataLoader(), variables=dict(
        (name, trust_as_template(value) if isinstance(value, str) else value) for name, value in ROLE_VARS.items()))
    exclusions = templar.template(trust_as_template('{{ __modwsgi_app_archive_exclusions }}'))
    assert len(exclusions) == 4 * len(app_model.SOURCE_EXCLUDE)
    assert {'.git', '*/.git', '.git/*', '*/.git/*'} <= set(exclusions)


def test_archive_pattern_matches_the_model():
    assert ROLE_VARS['__modwsgi_app_archive_pattern'] == app_model.ARCHIVE_PATTERN


ROLE = pathlib.Path(__file__).resolve().parents[2] / 'roles' / 'app'


def test_argument_spec_defaults_are_the_models():
    # What ansible-doc shows as each app key's default is what merge_apps fills in (the keys of 0.2.0 included).
    # The app keys are documented once, under the main entry point's modwsgi_apps (tests/unit/test_argument_specs.py).
    specs = yaml.safe_load((ROLE / 'meta' / 'argument_specs.yml').read_text())['argument_specs']
    options = specs['main']['options']['modwsgi_apps']['options']
    for key in ('setup', 'files', 'shared', 'default_site', 'mode', 'pass_authorization'):
        assert options[key]['default'] == app_model.BUILTIN_DEFAULTS[key], key
    files = options['files']['options']
    assert sorted(files) == sorted(app_model.FILE_KEYS)
    assert dict((key, files[key]['default']) for key in app_model.FILE_DEFAULTS) == app_model.FILE_DEFAULTS


def test_the_legacy_listen_file_is_told_apart_by_name():
    # activate/vhosts.yml splits config_plan's remove list with this pattern: the file of 0.1.0 only.
    vhosts = (ROLE / 'tasks' / 'activate' / 'vhosts.yml').read_text()
    pattern = "'/modwsgi-listen[.]conf$'"
    assert vhosts.count(pattern) == 2
    regex = re.compile(pattern.strip("'"))
    assert regex.search('/etc/apache2/sites-available/' + app_model.LEGACY_LISTEN_FILE)
    for name in (app_model.LISTEN_FILE % 8080, '00-modwsgi-listen.conf', 'old-modwsgi-listen.conf',
                 'modwsgi-hello.test-80.conf'):
        assert not regex.search('/etc/apache2/sites-available/' + name), name
