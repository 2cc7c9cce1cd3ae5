"""`ansible-doc` renders every plugin and role of the collection completely and without warnings.

Each test runs the real ansible-doc (the one next to the Python running pytest, so the .venv one under
`make unit`) against a collections tree made in tmp_path whose ansible_collections/modwsgi/deploy is a
symlink to this checkout, so what is checked is the working tree, never an installed copy.
"""

import ast
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTION = "modwsgi.deploy"
# ansible-doc's text layout before ansible-core 2.17 (the ansible-doc tested is the one of the Python running pytest):
# `> MODWSGI.DEPLOY.NAME    (path)` as the title of a plugin or role, `ENTRY POINT: main - ...` and
# `OPTIONS (= is mandatory):` in a role. Each version is held to its own layout only.
LAYOUT_2_16 = tuple(int(part) for part in ANSIBLE_CORE_VERSION.split(".")[:2]) < (2, 17)

# (ansible-doc type, plugin name, file under plugins/, title line of the text output, options that must be shown)
PLUGINS = [
    ("module", "mod_wsgi_info", "modules/mod_wsgi_info.py", "> MODULE", {"apachectl", "apache_binary", "module_path"}),
    ("module", "wsgi_check", "modules/wsgi_check.py", "> MODULE", {"entry_point", "venv", "python", "run_as", "timeout"}),
    ("module", "host_state", "modules/host_state.py", "> MODULE", {"root", "apps", "paths", "globs"}),
    ("module", "app_command", "modules/app_command.py", "> MODULE", {"command", "chdir", "env", "secret_env", "run_as"}),
    ("filter", "daemon_options", "filter/daemon_options.py", "> FILTER", {"_input", "mod_wsgi_version", "context"}),
    ("lookup", "tree_checksum", "lookup/tree_checksum.py", "> LOOKUP", {"_terms", "exclude"}),
]
# The filters of plugins/filter/app_model.py, each documented in a YAML file named after it.
SIDECAR_FILTERS = sorted(path.stem for path in (ROOT / "plugins" / "filter").glob("*.yml"))
PLUGINS += [("filter", name, "filter/%s.yml" % name, "> FILTER", {"_input"}) for name in SIDECAR_FILTERS]
ROLES = ["server", "app"]


def ansible_doc_command():
    for candidate in (pathlib.Path(sys.executable).parent / "ansible-doc", shutil.which("ansible-doc")):
        if candidate and os.access(str(candidate), os.X_OK):
            return str(candidate)
    pytest.fail("ansible-doc not found next to %s or in PATH" % sys.executable)


@pytest.fixture(scope="module")
def collections_tree(tmp_path_factory):
    tree = tmp_path_factory.mktemp("collections")
    namespace = tree / "ansible_collections" / "modwsgi"
    namespace.mkdir(parents=True)
    (namespace / "deploy").symlink_to(ROOT, target_is_directory=True)
    return tree


@pytest.fixture(scope="module")
def ansible_doc(collections_tree):
    command = ansible_doc_command()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    config = collections_tree / "ansible.cfg"
    config.write_text("# empty: no ansible.cfg of the caller applies\n", encoding="utf-8")
    env.update(
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_COLLECTIONS_PATH=str(collections_tree),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="1",
        ANSIBLE_LOCAL_TEMP=str(collections_tree / "tmp"),
        PAGER="cat",
        COLUMNS="100",
    )

    def run(*args):
        proc = subprocess.run(
            [command, *args], cwd=str(collections_tree), env=env, capture_output=True, text=True, timeout=120, check=False
        )
        where = "ansible-doc %s" % " ".join(args)
        assert proc.returncode == 0, "%s: rc %s\n%s" % (where, proc.returncode, proc.stderr)
        for word in ("[WARNING]", "[DEPRECATION WARNING]", "ERROR"):
            assert word not in proc.stderr, "%s printed %s:\n%s" % (where, word, proc.stderr)
        assert proc.stdout.strip(), "%s printed nothing" % where
        return proc.stdout

    return run


def documented_options(relative_path):
    """The option names in the DOCUMENTATION of a plugin file, or of a plugin's YAML documentation file (read, not imported)."""
    source = (ROOT / "plugins" / relative_path).read_text(encoding="utf-8")
    if relative_path.endswith(".yml"):
        return set(yaml.safe_load(source)["DOCUMENTATION"]["options"])
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            return set(yaml.safe_load(ast.literal_eval(node.value))["options"])
    raise AssertionError("no DOCUMENTATION in %s" % relative_path)


def argument_specs(role):
    path = ROOT / "roles" / role / "meta" / "argument_specs.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]


def shows_option(text, name, indent=""):
    """Whether the text output lists an option (`- name` or `= name` for a required one) at that indent."""
    return re.search(r"^%s[-=] %s(\s|$)" % (re.escape(indent), re.escape(name)), text, re.MULTILINE) is not None


def starts_with_title(text, title, fqcn):
    """Whether the text output starts with the title line of that plugin or role (`title`: `> MODULE`, `> ROLE:` ...)."""
    if LAYOUT_2_16:
        return re.match(r"> %s +\(" % re.escape(fqcn.upper()), text) is not None
    if title == "> ROLE:":
        return text.startswith("> ROLE: *%s*" % fqcn)
    return text.startswith("%s %s " % (title, fqcn))


def entry_point_heading(entry_point, short_description):
    return ("%s - %s" if LAYOUT_2_16 else "*%s* - %s") % (entry_point, short_description)


ROLE_OPTIONS_HEADING = "OPTIONS (= is mandatory):" if LAYOUT_2_16 else "Options (= indicates it is required):"


def type_args(plugin_type):
    return [] if plugin_type == "module" else ["-t", plugin_type]


@pytest.mark.parametrize("plugin_type, name, path, title, key_options", PLUGINS, ids=[p[1] for p in PLUGINS])
def test_plugin_doc_text(ansible_doc, plugin_type, name, path, title, key_options):
    fqcn = "%s.%s" % (COLLECTION, name)
    text = ansible_doc(*type_args(plugin_type), fqcn)
    assert starts_with_title(text, title, fqcn), text.splitlines()[0]
    assert "ansible_collections/modwsgi/deploy/plugins/%s" % path in text.splitlines()[0]
    for section in ("OPTIONS", "EXAMPLES:", "RETURN VALUES:"):
        assert section in text
    for option in documented_options(path):
        assert shows_option(text, option), "option %s is missing from the text output" % option


@pytest.mark.parametrize("plugin_type, name, path, title, key_options", PLUGINS, ids=[p[1] for p in PLUGINS])
def test_plugin_doc_json(ansible_doc, plugin_type, name, path, title, key_options):
    fqcn = "%s.%s" % (COLLECTION, name)
    data = json.loads(ansible_doc(*type_args(plugin_type), "--json", fqcn))
    assert list(data) == [fqcn]
    doc = data[fqcn]["doc"]
    assert doc["collection"] == COLLECTION
    assert pathlib.Path(doc["filename"]).resolve() == (ROOT / "plugins" / path).resolve()
    assert doc["short_description"].strip()
    assert doc["description"]
    assert key_options <= set(doc["options"])
    assert set(doc["options"]) == documented_options(path)
    for option, spec in doc["options"].items():
        assert spec.get("description"), "option %s has no description" % option
    assert data[fqcn]["examples"].strip()
    assert data[fqcn]["return"]


@pytest.mark.parametrize("role", ROLES)
def test_role_argument_specs_are_complete(role):
    specs = argument_specs(role)
    assert "main" in specs
    for entry_point, spec in specs.items():
        assert spec.get("short_description", "").strip(), "%s:%s has no short_description" % (role, entry_point)
        assert spec.get("description"), "%s:%s has no description" % (role, entry_point)
        assert spec.get("options"), "%s:%s documents no options" % (role, entry_point)
        for option, option_spec in spec["options"].items():
            assert option_spec.get("description"), "%s:%s option %s has no description" % (role, entry_point, option)


@pytest.mark.parametrize("role", ROLES)
def test_role_doc_text(ansible_doc, role):
    fqcn = "%s.%s" % (COLLECTION, role)
    text = ansible_doc("-t", "role", fqcn)
    assert starts_with_title(text, "> ROLE:", fqcn), text.splitlines()[0]
    specs = argument_specs(role)
    sections = re.split(r"^ENTRY POINT: ", text, flags=re.MULTILINE)[1:]
    assert len(sections) == len(specs), "entry points shown: %s" % [s.split(" ", 1)[0] for s in sections]
    for entry_point, spec in specs.items():
        heading = entry_point_heading(entry_point, spec.get("short_description", "").strip())
        section = next((s for s in sections if s.startswith(heading)), None)
        assert section is not None, "no 'ENTRY POINT: %s' in the output" % heading
        assert ROLE_OPTIONS_HEADING in section
        for option in spec["options"]:
            assert shows_option(section, option), "%s: option %s is missing" % (entry_point, option)


@pytest.mark.parametrize("role", ROLES)
def test_role_doc_json(ansible_doc, role):
    fqcn = "%s.%s" % (COLLECTION, role)
    data = json.loads(ansible_doc("-t", "role", "--json", fqcn))
    assert list(data) == [fqcn]
    doc = data[fqcn]
    assert doc["collection"] == COLLECTION
    assert pathlib.Path(doc["path"]).resolve() == ROOT
    specs = argument_specs(role)
    assert sorted(doc["entry_points"]) == sorted(specs)
    for entry_point, spec in specs.items():
        shown = doc["entry_points"][entry_point]
        assert shown.get("short_description") == spec.get("short_description")
        assert shown["description"]
        assert sorted(shown["options"]) == sorted(spec["options"])


def test_app_role_documents_every_app_key(ansible_doc):
    """The nested keys of modwsgi_apps render too, not only the top-level variables."""
    text = ansible_doc("-t", "role", "%s.app" % COLLECTION)
    main = re.split(r"^ENTRY POINT: ", text, flags=re.MULTILINE)[1]
    assert main.startswith(entry_point_heading("main", argument_specs("app")["main"]["short_description"].strip()))
    found = re.search(r"^- modwsgi_apps(\s|$)", main, re.MULTILINE)  # 2.16 ends the line after the name
    assert found, "modwsgi_apps is missing"
    start = found.start() - 1
    end = main.find("\n- ", start + 1)
    apps = main[start:end if end > 0 else len(main)]
    for key in argument_specs("app")["main"]["options"]["modwsgi_apps"]["options"]:
        assert re.search(r"^\s+[-=] %s(\s|$)" % re.escape(key), apps, re.MULTILINE), "app key %s is missing" % key
