# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Make ``ansible_collections.modwsgi.deploy`` importable when running plain pytest from a checkout.

ansible-test already runs unit tests from inside an ``ansible_collections/modwsgi/deploy`` tree, in which case
nothing is done here. Otherwise a temporary directory containing ``ansible_collections/modwsgi/deploy``
(a symlink to the collection root, two levels above this file) is put at the front of ``sys.path``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import importlib
import os
import shutil
import sys
import tempfile

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE = 'ansible_collections.modwsgi.deploy.plugins.modules.mod_wsgi_info'


def _probe():
    try:
        module = importlib.import_module(PROBE)
    except ImportError:
        return False
    return os.path.realpath(module.__file__).startswith(os.path.realpath(COLLECTION_ROOT) + os.sep)


def _make_collection_importable():
    if _probe():
        return
    for name in list(sys.modules):
        if name == 'ansible_collections.modwsgi' or name.startswith('ansible_collections.modwsgi.'):
            del sys.modules[name]
    tmpdir = tempfile.mkdtemp(prefix='modwsgi-deploy-unit-')
    atexit.register(shutil.rmtree, tmpdir, True)
    namespace = os.path.join(tmpdir, 'ansible_collections', 'modwsgi')
    os.makedirs(namespace)
    os.symlink(COLLECTION_ROOT, os.path.join(namespace, 'deploy'))
    sys.path.insert(0, tmpdir)
    importlib.invalidate_caches()
    if not _probe():
        raise ImportError('Could not make %s importable from %s' % (PROBE, COLLECTION_ROOT))


_make_collection_importable()
