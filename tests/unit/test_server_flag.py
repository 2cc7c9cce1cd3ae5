# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SUSE's listen.conf opens 443 only with the SSL server flag: the server role sets it once.

The step runs for real on the controller against a sysconfig file in a scratch directory.
SUSE's a2enflag (sysconf_addword on APACHE_SERVER_FLAGS) is stood in for by a script that
does the same to that file and records each call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pathlib
import re
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent
A2ENFLAG = """#!/bin/sh
echo "$@" >> "%(calls)s"
sed -i 's/^APACHE_SERVER_FLAGS="\\(.*\\)"/APACHE_SERVER_FLAGS="\\1 '"$1"'"/' "%(sysconfig)s"
"""


def run(scratch):
    env = dict(os.environ, PATH='%s:%s' % (scratch / 'bin', os.environ['PATH']),
               ANSIBLE_LIBRARY=str(HERE / 'playbooks' / 'library'), ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json',
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    proc = subprocess.run(['ansible-playbook', '-e', json.dumps({'scratch': str(scratch)}),
                           str(HERE / 'playbooks' / 'server_flag.yml')],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout)['stats']['localhost']['changed']


@pytest.fixture
def scratch(tmp_path):
    (tmp_path / 'bin').mkdir()
    stub = tmp_path / 'bin' / 'a2enflag'
    stub.write_text(A2ENFLAG % {'calls': tmp_path / 'calls', 'sysconfig': tmp_path / 'sysconfig-apache2'})
    stub.chmod(0o755)
    return tmp_path


def flags(scratch):
    return re.search(r'(?m)^APACHE_SERVER_FLAGS="([^"]*)"', (scratch / 'sysconfig-apache2').read_text()).group(1).split()


def calls(scratch):
    path = scratch / 'calls'
    return path.read_text().split('\n')[:-1] if path.exists() else []


def test_the_flag_is_set_once_and_a_restart_recorded(scratch):
    (scratch / 'sysconfig-apache2').write_text('APACHE_MODULES="wsgi ssl"\nAPACHE_SERVER_FLAGS=""\n')
    assert run(scratch) > 0
    assert calls(scratch) == ['SSL']
    assert flags(scratch) == ['SSL']
    assert (scratch / 'state' / 'apache-apply-pending').read_text() == 'restart\n'
    # Taken: nothing changes, a2enflag is not run again.
    (scratch / 'state' / 'apache-apply-pending').unlink()
    assert run(scratch) == 0
    assert calls(scratch) == ['SSL']
    assert not (scratch / 'state' / 'apache-apply-pending').exists()


def test_a_flag_already_among_others_is_left_alone(scratch):
    (scratch / 'sysconfig-apache2').write_text('APACHE_SERVER_FLAGS="STATUS SSL"\n')
    assert run(scratch) == 0
    assert calls(scratch) == []
