"""The README's variable tables and the roles' argument_specs must not drift apart."""

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def readme_table(marker):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- %s:" % marker)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        match = re.match(r"^\| `(modwsgi_\w+)` \| `([^`]*)` \|", line)
        if match:
            rows.append((match.group(1), match.group(2)))
    return rows


def spec_options(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return spec["argument_specs"]["main"]["options"]


def defaults(role):
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))


def test_server_variables_match_argument_specs():
    documented = [row[0] for row in readme_table("server-variables")]
    assert sorted(documented) == sorted(spec_options("server"))
    assert len(documented) == len(set(documented))


def test_server_defaults_match_argument_specs():
    options = spec_options("server")
    role_defaults = defaults("server")
    assert sorted(role_defaults) == sorted(options)
    for name, option in options.items():
        assert option.get("default") == role_defaults[name], name


def test_readme_shows_each_scalar_default():
    role_defaults = defaults("server")
    for name, shown in readme_table("server-variables"):
        value = role_defaults[name]
        if isinstance(value, bool):
            assert shown == str(value).lower(), name
        elif isinstance(value, str):
            assert shown in (value, '""' if value == "" else value), name


def test_app_variables_match_argument_specs():
    documented = [row[0] for row in readme_table("app-variables")]
    assert sorted(documented) == sorted(spec_options("app"))
    assert len(documented) == len(set(documented))


def test_app_defaults_match_argument_specs():
    options = spec_options("app")
    role_defaults = defaults("app")
    assert sorted(role_defaults) == sorted(options)
    for name, option in options.items():
        assert option.get("default") == role_defaults[name], name


def app_keys_table():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- app-keys:")
    keys = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if keys:
                break
            continue
        match = re.match(r"^\| `(\w+)` \| `[^`]+`", line)
        if match:
            keys.append(match.group(1))
    return keys


def test_every_app_key_is_documented_with_an_example():
    app_keys = spec_options("app")["modwsgi_apps"]["options"]
    assert sorted(app_keys_table()) == sorted(app_keys)


def test_app_defaults_accept_every_app_key_but_name():
    app_keys = spec_options("app")["modwsgi_apps"]["options"]
    default_keys = spec_options("app")["modwsgi_app_defaults"]["options"]
    assert sorted(default_keys) == sorted(k for k in app_keys if k != "name")


def test_rollback_entry_point_takes_the_same_options():
    spec = yaml.safe_load((ROOT / "roles" / "app" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    assert spec["argument_specs"]["rollback"]["options"] == spec["argument_specs"]["main"]["options"]
