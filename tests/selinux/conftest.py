# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Import ansible_collections.modwsgi.deploy from this checkout, as the unit tests do."""

import pathlib
import runpy

runpy.run_path(str(pathlib.Path(__file__).resolve().parents[1] / 'unit' / 'conftest.py'))
