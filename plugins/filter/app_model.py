# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters over the app role's model of its apps (plugins/module_utils/app_model.py).

Each filter has its documentation in a YAML file next to this one, named after the filter
(``app_merge.yml``, ``app_errors.yml``, ...), which ``ansible-doc -t filter`` reads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.modwsgi.deploy.plugins.filter.daemon_options import daemon_options
from ansible_collections.modwsgi.deploy.plugins.module_utils import app_model


def _plain(value):
    """A plain copy of the value: dicts, lists and native scalars, without Ansible's lazy or tagged types.

    The functions of app_model compare, copy and serialize what they are given; a lazy container of
    ansible-core 2.19 only templates its values when they are read through its own methods.
    """
    if isinstance(value, Mapping):
        return dict((_plain(key), _plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _call(name, function, *args):
    try:
        return function(*[_plain(arg) for arg in args])
    except AnsibleFilterError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as ex:
        raise AnsibleFilterError('%s: %s' % (name, ex if not isinstance(ex, KeyError) else ex.args[0]))


def app_merge(apps, defaults, root, server=None, cpus=2, playbook_dir=''):
    """Every entry of modwsgi_apps merged over the defaults, with every path worked out."""
    if app_model.shape_errors(_plain(apps), _plain(defaults)):
        raise AnsibleFilterError(app_model.SHAPE_MESSAGE)
    return _call('app_merge', app_model.merge_apps, apps, defaults, root, server, cpus, playbook_dir)


def app_errors(apps, defaults, root, server=None, cpus=2, playbook_dir=''):
    """Every preflight error of modwsgi_apps and modwsgi_app_defaults at once (a list of messages)."""
    return _call('app_errors', app_model.app_errors, apps, defaults, root, server, cpus, playbook_dir)


def app_python_errors(apps, results, built_for):
    """The apps' interpreters that are missing or not the Python mod_wsgi was built for."""
    return _call('app_python_errors', app_model.python_errors, apps, results, built_for)


def app_tls_files(apps):
    """[label, path] of every TLS certificate, key and chain of the present apps."""
    return _call('app_tls_files', app_model.tls_files, apps)


def app_tls_errors(results):
    """[] or [a message naming every TLS file that is not a regular file on the host]."""
    return _call('app_tls_errors', app_model.tls_errors, results)


def app_daemon_lines(apps, mod_wsgi_version):
    """{app name: WSGIDaemonProcess options} of the present daemon-mode apps."""
    return _call('app_daemon_lines', lambda merged, version: app_model.daemon_lines(merged, version, daemon_options),
                 apps, mod_wsgi_version)


def app_sites(apps, daemon_lines, log_dir, default_listen):
    """The virtual hosts of the present apps, the extra Listen ports and the wanted configuration files."""
    return _call('app_sites', app_model.sites, apps, daemon_lines, log_dir, default_listen)


def app_release_id(app, content_key, placed_files=None):
    """The 12 hex digits naming a release of the app."""
    return _call('app_release_id', app_model.release_id, app, content_key, placed_files)


def app_venv_fingerprint(app, requirements_text, python_version, pip_extra_args, content_key):
    """The 12 hex digits naming the virtualenv of a release of the app."""
    return _call('app_venv_fingerprint', app_model.venv_fingerprint, app, requirements_text, python_version,
                 pip_extra_args, content_key)


def app_requirements_local(lines):
    """Whether requirement lines point into the source (files, links, local paths or archives)."""
    return _call('app_requirements_local', app_model.requirements_are_local, lines)


def app_prune_plan(app, releases, run_state):
    """The release directories and virtualenvs of the app to remove."""
    return _call('app_prune_plan', app_model.prune_plan, app, releases, run_state)


def app_directories(app, root_group, paths=None):
    """The app's directories that are not yet as they must be (all of them when paths is not given)."""
    if paths is None:
        return _call('app_directories', app_model.directories, app, root_group)
    return _call('app_directories', app_model.directories_to_fix, app, root_group, paths)


def app_host_query(apps, server, wanted_files, root=None):
    """What modwsgi.deploy.host_state reads for the apps."""
    return _call('app_host_query', app_model.host_query, apps, server, wanted_files, root)


def app_config_plan(apps, site_model, server, root, globs, purge=False):
    """The configuration files and apps of other runs this run leaves alone, removes or clashes with."""
    return _call('app_config_plan', app_model.config_plan, apps, site_model, server, root, globs, purge)


def app_runtime(app, release_src=None, setup_records=None):
    """The app's environment, setup and pre_switch commands for one release, its directories expanded."""
    return _call('app_runtime', app_model.runtime, app, release_src, setup_records)


def app_expand(value, app, release_src=None):
    """The value with the app's ${MODWSGI_APP...} directories expanded (nothing else changes)."""
    return _call('app_expand', lambda value, app, release: app_model.expand(value, app_model.directory_values(app, release)),
                 value, app, release_src)


def path_matches(entry, kind=None, checksum=None, owner=None, group=None, mode=None, target=None):
    """Whether a path read by modwsgi.deploy.host_state is what is wanted."""
    return _call('path_matches', app_model.path_matches, entry, kind, checksum, owner, group, mode, target)


def app_rejected_config(failed_result):
    """The message for a virtual host or Listen file that failed Apache's check."""
    return _call('app_rejected_config', app_model.rejected_config_message, failed_result)


class FilterModule(object):
    """Filters for the app role's model of its apps."""

    def filters(self):
        return {
            'app_merge': app_merge,
            'app_errors': app_errors,
            'app_python_errors': app_python_errors,
            'app_tls_files': app_tls_files,
            'app_tls_errors': app_tls_errors,
            'app_daemon_lines': app_daemon_lines,
            'app_sites': app_sites,
            'app_release_id': app_release_id,
            'app_venv_fingerprint': app_venv_fingerprint,
            'app_requirements_local': app_requirements_local,
            'app_prune_plan': app_prune_plan,
            'app_rejected_config': app_rejected_config,
            'app_directories': app_directories,
            'app_host_query': app_host_query,
            'app_config_plan': app_config_plan,
            'app_runtime': app_runtime,
            'app_expand': app_expand,
            'path_matches': path_matches,
        }
