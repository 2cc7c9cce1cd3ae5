"""The role READMEs and the roles' argument_specs must not drift apart; nor the README and the playbooks.

Each role's README (roles/<role>/README.md) documents its variables and, for the app role, the keys of an
app in tables after a `<!-- marker: ... -->` comment. The specs are read through `spec_options`, which
collects every option of every entry point recursively by its path, so the check does not depend on how
argument_specs.yml is laid out (anchors, shared option blocks, which entry point carries an option).
"""

import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = ["server", "app"]


def readme_path(role=None):
    return ROOT / "roles" / role / "README.md" if role else ROOT / "README.md"


def readme_table(marker, role=None, row=r"^\| `(modwsgi_\w+)` \| `([^`]*)` \|"):
    """The rows of the table after `<!-- marker: ... -->` in a role's README (or the collection's), as
    the groups of `row`; with `row=None`, the whole lines."""
    text = readme_path(role).read_text(encoding="utf-8")
    start = text.index("<!-- %s:" % marker)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        if row is None:
            rows.append(line)
            continue
        match = re.match(row, line)
        if match:
            rows.append(match.groups())
    return rows


def argument_specs(role):
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))


def _walk(options, prefix):
    for name, option in (options or {}).items():
        path = prefix + (name,)
        yield path, option
        for key in ("options", "suboptions"):
            if isinstance(option, dict) and option.get(key):
                yield from _walk(option[key], path)


def spec_options(role, entry_point=None):
    """{path: option} of every option of the role's entry points (or of one), at any depth:
    ('modwsgi_apps',), ('modwsgi_apps', 'source'), ('modwsgi_apps', 'source', 'repo'), ..."""
    found = {}
    for name, spec in argument_specs(role)["argument_specs"].items():
        if entry_point in (None, name):
            for path, option in _walk(spec.get("options"), ()):
                found.setdefault(path, option)
    return found


def variables(role, entry_point=None):
    """{name: option} of the role's variables (the top-level options)."""
    return {path[0]: option for path, option in spec_options(role, entry_point).items() if len(path) == 1}


def app_keys():
    """{key: option} of one entry of modwsgi_apps."""
    return {path[1]: option for path, option in spec_options("app").items()
            if len(path) == 2 and path[0] == "modwsgi_apps"}


def defaults(role):
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("role", ROLES)
def test_variables_table_matches_argument_specs(role):
    """The role README's table is exactly the main entry point's variables, each once: every option is
    documented, and nothing documented is missing from the specs."""
    documented = [row[0] for row in readme_table("%s-variables" % role, role)]
    assert sorted(documented) == sorted(variables(role, "main"))
    assert len(documented) == len(set(documented))


@pytest.mark.parametrize("role", ROLES)
def test_every_option_of_every_entry_point_is_in_the_role_readme(role):
    """Variables only other entry points take (such as `apply`'s modwsgi_apache_restart) are named in the
    README too."""
    text = readme_path(role).read_text(encoding="utf-8")
    assert sorted(name for name in variables(role) if "`%s`" % name not in text) == []


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    options = variables(role, "main")
    role_defaults = defaults(role)
    assert sorted(role_defaults) == sorted(options)
    for name, option in options.items():
        assert option.get("default") == role_defaults[name], name


@pytest.mark.parametrize("role", ROLES)
def test_readme_shows_each_scalar_default(role):
    role_defaults = defaults(role)
    for name, shown in readme_table("%s-variables" % role, role):
        value = role_defaults[name]
        if isinstance(value, bool):
            assert shown == str(value).lower(), name
        elif isinstance(value, str):
            assert shown in (value, '""' if value == "" else value), name
        elif isinstance(value, (list, dict)) and not value:
            assert shown == json.dumps(value), name


def test_every_app_key_is_documented_with_an_example():
    documented = [row[0] for row in readme_table("app-keys", "app", r"^\| `(\w+)` \| `[^`]+`")]
    assert sorted(documented) == sorted(app_keys())
    assert len(documented) == len(set(documented))


def test_every_suboption_of_an_app_key_is_named_in_its_row():
    """`source.repo`, `tls.chain`, `files.secret`, ...: each nested option is named in its key's row."""
    rows = {}
    for line in readme_table("app-keys", "app", row=None):
        match = re.match(r"^\| `(\w+)` \|", line)
        if match:
            rows[match.group(1)] = line
    missing = []
    for path in spec_options("app"):
        if len(path) > 2 and path[0] == "modwsgi_apps":
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(path[-1]), rows.get(path[1], "")):
                missing.append(".".join(path[1:]))
    assert missing == []


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


def test_the_readme_points_at_each_role_readme():
    text = readme_path().read_text(encoding="utf-8")
    for role in ROLES:
        assert "](roles/%s/README.md)" % role in text, role
