"""The README's variable tables and the roles' argument_specs must not drift apart."""

import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def readme_table(marker, row=r"^\| `(modwsgi_\w+)` \| `([^`]*)` \|"):
    """The rows of the README table after `<!-- marker: ... -->`, as the groups of `row`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- %s:" % marker)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        match = re.match(row, line)
        if match:
            rows.append(match.groups())
    return rows


def spec_options(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return spec["argument_specs"]["main"]["options"]


def defaults(role):
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))


ROLES = ["server", "app"]


@pytest.mark.parametrize("role", ROLES)
def test_variables_match_argument_specs(role):
    documented = [row[0] for row in readme_table("%s-variables" % role)]
    assert sorted(documented) == sorted(spec_options(role))
    assert len(documented) == len(set(documented))


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    options = spec_options(role)
    role_defaults = defaults(role)
    assert sorted(role_defaults) == sorted(options)
    for name, option in options.items():
        assert option.get("default") == role_defaults[name], name


@pytest.mark.parametrize("role", ROLES)
def test_readme_shows_each_scalar_default(role):
    role_defaults = defaults(role)
    for name, shown in readme_table("%s-variables" % role):
        value = role_defaults[name]
        if isinstance(value, bool):
            assert shown == str(value).lower(), name
        elif isinstance(value, str):
            assert shown in (value, '""' if value == "" else value), name
        elif isinstance(value, (list, dict)) and not value:
            assert shown == json.dumps(value), name


def test_every_app_key_is_documented_with_an_example():
    app_keys = spec_options("app")["modwsgi_apps"]["options"]
    documented = [row[0] for row in readme_table("app-keys", r"^\| `(\w+)` \| `[^`]+`")]
    assert sorted(documented) == sorted(app_keys)


def playbook_defaults():
    """{variable: default} from every `modwsgi_x | default(...)` in the playbooks; all uses must agree."""
    found = {}
    for path in sorted((ROOT / "playbooks").rglob("*.yml")):
        for name, value in re.findall(r"\b(modwsgi_\w+) \| default\(([^)]*)\)", path.read_text(encoding="utf-8")):
            value = value.strip("'\"")
            assert found.setdefault(name, value) == value, "%s has two defaults in playbooks/" % name
    return found


def test_playbook_variables_match_the_playbooks():
    documented = dict(readme_table("playbook-variables"))
    shown = {name: value.strip('"') for name, value in documented.items()}
    assert shown == playbook_defaults()
