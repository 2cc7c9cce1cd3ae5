# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Each role variable and app key is documented once, and still checked wherever it can be set.

The main entry point of each role documents every variable; the other entry points declare the
variables they read with the same type, choices and default (so Ansible checks them there too) and
point to the main entry point. The app keys are documented only under the main entry point's
modwsgi_apps; the app role checks modwsgi_apps and modwsgi_app_defaults against that specification
in tasks/preflight/app_spec.yml, for every entry point (tests/preflight/test_app_preflight.py runs it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pathlib

import pytest
import yaml


ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = ["server", "app"]
# What an entry point must declare exactly as the main entry point does.
CHECKED = ("type", "elements", "choices", "default", "no_log", "required")


def spec_text(role):
    return (ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8")


def specs(role):
    return yaml.safe_load(spec_text(role))["argument_specs"]


def described_options(options, prefix=""):
    """Every option and suboption path of an options dict that carries a description."""
    for name, option in options.items():
        yield prefix + name
        yield from described_options(option.get("options") or {}, prefix + name + ".")


@pytest.mark.parametrize("role", ROLES)
def test_other_entry_points_declare_main_variables_alike(role):
    entry_points = specs(role)
    main = entry_points["main"]["options"]
    for name, spec in entry_points.items():
        if name == "main":
            continue
        for option, declared in spec["options"].items():
            if option not in main:
                continue  # a variable only this entry point reads (server's apply: modwsgi_apache_restart)
            for key in CHECKED:
                assert declared.get(key) == main[option].get(key), "%s:%s %s.%s differs from main" % (role, name, option, key)
            assert "options" not in declared, "%s:%s documents the keys of %s again; main does" % (role, name, option)


def test_app_entry_points_take_the_same_variables():
    entry_points = specs("app")
    for name in ("rollback", "preflight"):
        assert sorted(entry_points[name]["options"]) == sorted(entry_points["main"]["options"])


def test_each_app_key_is_documented_once():
    main = specs("app")["main"]["options"]
    app_keys = set(described_options(main["modwsgi_apps"]["options"]))
    assert {"name", "source", "source.type", "tls.cert", "files.path"} <= app_keys
    assert "options" not in main["modwsgi_app_defaults"]
    documented = [path.split(".", 1)[1] for spec in specs("app").values()
                  for path in described_options(spec["options"]) if "." in path]
    assert sorted(documented) == sorted(app_keys), "an app key is documented more than once"


def test_the_key_check_reads_the_main_specification():
    """preflight/app_spec.yml checks both variables against main's modwsgi_apps keys (name: modwsgi_apps only)."""
    role_vars = yaml.safe_load((ROOT / "roles" / "app" / "vars" / "main.yml").read_text(encoding="utf-8"))
    expression = " ".join(role_vars["__modwsgi_app_key_spec"].split())
    assert "role_path ~ '/meta/argument_specs.yml'" in expression
    assert "['argument_specs']['main']['options']['modwsgi_apps']['options']" in expression
    task = yaml.safe_load((ROOT / "roles" / "app" / "tasks" / "preflight" / "app_spec.yml").read_text(encoding="utf-8"))[0]
    spec = task["ansible.builtin.validate_argument_spec"]["argument_spec"]
    assert spec["modwsgi_apps"] == {"type": "list", "elements": "dict", "options": "{{ __modwsgi_app_key_spec }}"}
    assert spec["modwsgi_app_defaults"] == {
        "type": "dict",
        "options": "{{ __modwsgi_app_key_spec | dict2items | rejectattr('key', 'eq', 'name') | items2dict }}",
    }
    tasks = yaml.safe_load((ROOT / "roles" / "app" / "tasks" / "preflight.yml").read_text(encoding="utf-8"))
    assert tasks[0]["ansible.builtin.import_tasks"] == "preflight/app_spec.yml", "the key check runs first"


@pytest.mark.parametrize("role", ROLES)
def test_no_yaml_anchors_repeat_documentation(role):
    """An alias makes ansible-doc print the aliased block again, in full."""
    events = yaml.parse(spec_text(role))
    aliases = [event for event in events if isinstance(event, yaml.AliasEvent)]
    # The app role's rollback and preflight entry points share their short list of variables.
    assert len(aliases) == (1 if role == "app" else 0)
