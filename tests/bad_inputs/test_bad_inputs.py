"""Bad input against an already converged host: refused, named, and nothing changes.

Runs inside a Molecule scenario's verify step (molecule/app lists this file in
additional_files_or_dirs), against the hosts in MOLECULE_INVENTORY_FILE. One
ansible-playbook run holds one play per case, so each case starts from the
play's own variables; every case records the fingerprint of the Apache config
tree and the app tree before and after, and whether the site still answers.
"""

import copy
import json
import os
import pathlib
import re
import subprocess

import pytest
import yaml

HERE = pathlib.Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
TREES = ["/etc/apache2", "/srv/modwsgi"]
SITE = {"host": "hello.test", "path": "/health"}

# The Flask app as molecule/app converged it.
BASE_APP = {
    "name": "hello",
    "server_name": "hello.test",
    "entry_point": "hello:app",
    "source": {"type": "dir", "path": str(PROJECT / "examples" / "flask_app")},
    "static": [{"url": "/static", "path": "hello/static"}],
    "env": {"GREETING": "Bonjour"},
    "secret_env": {"SECRET_TOKEN": "molecule-secret-value"},
    "health_check": {"path": "/health"},
}


def app(**changes):
    entry = copy.deepcopy(BASE_APP)
    entry.update(changes)
    return entry


def apps(*entries):
    return {"modwsgi_apps": list(entries)}


# id: (role, variables, fragments the message must contain). Every message
# must name the variable it is about; the fragments say which and what is valid.
CASES = {
    # server role
    "server-install-method": ("server", {"modwsgi_install_method": "conda"}, ["modwsgi_install_method", "package, pip"]),
    "server-mpm": ("server", {"modwsgi_mpm": "threaded"}, ["modwsgi_mpm", "event, worker, prefork"]),
    "server-log-level": ("server", {"modwsgi_log_level": "loud"}, ["modwsgi_log_level", "warn"]),
    "server-hardening-type": ("server", {"modwsgi_hardening": "perhaps"}, ["modwsgi_hardening", "bool"]),
    "server-restrict-embedded-type": ("server", {"modwsgi_restrict_embedded": "sometimes"}, ["modwsgi_restrict_embedded", "bool"]),
    "server-service-state": ("server", {"modwsgi_service_state": "reloaded"}, ["modwsgi_service_state", "started, stopped"]),
    "server-booleans-type": ("server", {"modwsgi_selinux_booleans": ["httpd_can_network_connect"]}, ["modwsgi_selinux_booleans", "dict"]),
    "server-relative-python": (
        "server",
        {"modwsgi_install_method": "pip", "modwsgi_python": "python3"},
        ["modwsgi_python", "absolute path"],
    ),
    "server-missing-python": (
        "server",
        {"modwsgi_install_method": "pip", "modwsgi_python": "/nonexistent/bin/python3.99"},
        ["modwsgi_python", "/nonexistent/bin/python3.99", "not an executable file"],
    ),
    "server-pip-spec": (
        "server",
        {"modwsgi_install_method": "pip", "modwsgi_pip_spec": "flask"},
        ["modwsgi_pip_spec", "mod_wsgi==6.1.1"],
    ),
    "server-socket-prefix": ("server", {"modwsgi_socket_prefix": "run/wsgi"}, ["modwsgi_socket_prefix", "absolute path"]),
    # app role: types and unknown keys
    "apps-not-a-list": ("app", {"modwsgi_apps": {"name": "hello"}}, ["modwsgi_apps", "list"]),
    "unknown-key": ("app", apps(app(procs=2)), ["modwsgi_apps", "procs"]),
    "port-type": ("app", apps(app(port="eighty")), ["modwsgi_apps", "port", "int"]),
    "source-type": ("app", apps(app(source={"type": "svn", "path": "/tmp"})), ["modwsgi_apps", "type", "dir, git, archive, pypi"]),
    "mode": ("app", apps(app(mode="threaded")), ["modwsgi_apps[0] (hello).mode", "must be daemon"]),
    "mode-embedded": ("app", apps(app(mode="embedded")), ["modwsgi_apps[0] (hello).mode", "removed", "daemon processes"]),
    # names
    "name-slash": ("app", apps(app(name="a/b")), ["modwsgi_apps[0]", ".name", "lowercase letters"]),
    "name-dotdot": ("app", apps(app(name="..")), ["modwsgi_apps[0]", ".name"]),
    "name-space": ("app", apps(app(name="my app")), ["modwsgi_apps[0]", ".name"]),
    "server-name-space": ("app", apps(app(server_name="hello test")), ["modwsgi_apps[0] (hello).server_name", "host name"]),
    "duplicate-name": (
        "app",
        apps(app(), app(server_name="other.test")),
        ["modwsgi_apps", "'hello' is used by 2 apps"],
    ),
    "duplicate-server-name-port": (
        "app",
        apps(app(), app(name="other")),
        ["modwsgi_apps", "hello.test:80:/", "own mount"],
    ),
    # values
    "port-range": ("app", apps(app(port=70000)), ["modwsgi_apps[0] (hello).port", "between 1 and 65535"]),
    "mount-no-slash": ("app", apps(app(mount="api")), ["modwsgi_apps[0] (hello).mount", "starting with '/'"]),
    "source-missing-path": (
        "app",
        apps(app(source={"type": "dir", "path": "/nonexistent/app"})),
        ["modwsgi_apps[0] (hello).source.path", "existing directory on the controller"],
    ),
    "entry-point-no-callable": ("app", apps(app(entry_point="hello")), ["modwsgi_apps[0] (hello).entry_point", "module:callable", "module:factory()"]),
    "entry-point-not-literal": (
        "app",
        apps(app(entry_point="hello:create(open('/etc/shadow'))")),
        ["modwsgi_apps[0] (hello).entry_point", "module:factory(<Python literals>)"],
    ),
    "setup-string": ("app", apps(app(setup={"init": "flask init-db"})), ["modwsgi_apps", "setup"]),
    "files-path-escape": ("app", apps(app(files=[{"path": "../env.json", "content": "x"}])), ["modwsgi_apps[0] (hello).files[0].path", "config directory"]),
    "files-content-and-src": (
        "app",
        apps(app(files=[{"path": "a.ini", "content": "x", "src": "a.ini.j2"}])),
        ["modwsgi_apps[0] (hello).files[0]", "exactly one of content"],
    ),
    "files-mode-number": ("app", apps(app(files=[{"path": "a.ini", "content": "x", "mode": 416}])), ["modwsgi_apps", "mode"]),
    "shared-absolute": ("app", apps(app(shared=["/etc"])), ["modwsgi_apps[0] (hello).shared[0]", "relative to the source root"]),
    "default-site-type": ("app", apps(app(default_site="sometimes")), ["modwsgi_apps", "default_site"]),
    "default-site-twice": (
        "app",
        apps(app(default_site=True), app(name="other", server_name="other.test", default_site=True)),
        ["modwsgi_apps", "default_site on port 80"],
    ),
    "env-unknown-directory": ("app", apps(app(env={"DB": "${MODWSGI_APP_DATABASE}/x"})), ["modwsgi_apps[0] (hello).env", "${MODWSGI_APP_DATA}"]),
    "processes-zero": ("app", apps(app(processes=0)), ["modwsgi_apps[0] (hello).processes", "at least 1"]),
    "threads-zero": ("app", apps(app(threads=0)), ["modwsgi_apps[0] (hello).threads", "at least 1"]),
    "keep-releases-negative": ("app", apps(app(keep_releases=-1)), ["modwsgi_apps[0] (hello).keep_releases", "at least 1"]),
    "user-root": ("app", apps(app(user="root")), ["modwsgi_apps[0] (hello).user", "never as root"]),
    "tls-cert-without-key": ("app", apps(app(tls={"cert": "/etc/ssl/certs/ssl-cert-snakeoil.pem"})), ["modwsgi_apps", "key"]),
    "static-url": ("app", apps(app(static=[{"url": "static", "path": "hello/static"}])), ["modwsgi_apps[0] (hello).static[0].url"]),
    "env-name": ("app", apps(app(env={"BAD-NAME": "x"})), ["modwsgi_apps[0] (hello).env", "BAD-NAME"]),
    "health-path": ("app", apps(app(health_check={"path": "health"})), ["modwsgi_apps[0] (hello).health_check.path"]),
    "requirements-escape": ("app", apps(app(requirements="../secrets.txt")), ["modwsgi_apps[0] (hello).requirements"]),
    "daemon-options-owned": (
        "app",
        apps(app(daemon_options={"user": "www-data"})),
        ["modwsgi_apps[0] (hello).daemon_options.user", "the app's user key"],
    ),
    # checked against the host
    "python-missing": (
        "app",
        apps(app(python="/opt/nowhere/bin/python3")),
        ["modwsgi_apps python /opt/nowhere/bin/python3", "cannot make virtualenvs"],
    ),
    "daemon-option-unknown": (
        "app",
        apps(app(daemon_options={"bogus-option": 1})),
        ["modwsgi_apps[0] (hello).daemon_options", "bogus-option"],
    ),
    "daemon-option-too-new": (
        "app",
        apps(app(daemon_options={"interrupt-timeout": 30})),
        ["modwsgi_apps[0] (hello).daemon_options", "interrupt-timeout", "6.0"],
    ),
    "tls-cert-missing-on-host": (
        "app",
        apps(app(tls={"cert": "/etc/ssl/certs/nowhere.pem", "key": "/etc/ssl/private/nowhere.key"})),
        ["modwsgi_apps", "hello.tls.cert", "/etc/ssl/certs/nowhere.pem"],
    ),
}

# Valid input through the same harness: accepted, and still nothing changes.
CONTROL = {"id": "control", "role": "app", "tasks_from": "preflight", "vars": apps(app())}


def preflight_task_names(role):
    """Names of the tasks a role may fail in before it changes anything (templated parts as wildcards)."""
    tasks = ROLES / role / "tasks"
    names = []

    def collect(entries):
        for task in entries or []:
            if "name" in task:
                names.append(task["name"])
            for section in ("block", "rescue", "always"):
                collect(task.get(section))

    for path in [tasks / "preflight.yml", *sorted((tasks / "preflight").glob("*.yml"))]:
        if path.exists():
            collect(yaml.safe_load(path.read_text()))
    return [re.compile(re.sub(r"\\\{\\\{.*?\\\}\\\}", ".*", re.escape(name)) + "$") for name in names]


ROLES = PROJECT / "roles"


def build_playbook(report_dir):
    cases = [CONTROL] + [{"id": cid, "role": spec[0], "vars": spec[1]} for cid, spec in sorted(CASES.items())]
    # The case's tasks go straight into each play (an include per case costs time).
    case_tasks = yaml.safe_load((HERE / "try_case.yml").read_text())
    shared_vars = {"bad_trees": TREES, "bad_site": SITE, "bad_shared_tasks": str(PROJECT / "molecule" / "shared" / "tasks")}
    plays = [
        {
            "name": "Fingerprint before the first case",
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Fingerprint the config and release trees",
                    "ansible.builtin.include_tasks": shared_vars["bad_shared_tasks"] + "/fingerprint.yml",
                    "vars": {"fingerprint_trees": TREES},
                }
            ],
        }
    ]
    for case in cases:
        plays.append(
            {
                "name": "Bad input: " + case["id"],
                "hosts": "all",
                "gather_facts": False,
                "vars": dict(case["vars"], bad_case={k: v for k, v in case.items() if k != "vars"}, **shared_vars),
                "tasks": case_tasks,
            }
        )
    plays.append(
        {
            "name": "Report",
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Write each host's results on the controller",
                    "ansible.builtin.copy": {
                        "content": "{{ bad_input_results | to_json }}",
                        "dest": str(report_dir) + "/{{ inventory_hostname }}.json",
                        "mode": "0644",
                    },
                    "delegate_to": "localhost",
                }
            ],
        }
    )
    return plays


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        pytest.fail("Run this suite from a Molecule scenario's verify step (it needs MOLECULE_INVENTORY_FILE).")
    work = tmp_path_factory.mktemp("bad_inputs")
    playbook = work / "bad_inputs.yml"
    playbook.write_text(json.dumps(build_playbook(work)))
    proc = subprocess.run(
        ["ansible-playbook", "-i", inventory, str(playbook)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    reports = {p.stem: json.loads(p.read_text()) for p in work.glob("*.json")}
    assert reports, proc.stdout[-4000:]
    return reports


def assert_nothing_changed(host, outcome):
    assert outcome["before"] == outcome["after"], host + ": the config or app tree changed"
    assert outcome["site"] == "200 ok", (host, outcome["site"])


def test_there_are_at_least_30_cases_across_both_roles():
    roles = [spec[0] for spec in CASES.values()]
    assert len(CASES) >= 30
    assert roles.count("server") >= 5 and roles.count("app") >= 20


def test_valid_input_passes_through_the_same_harness(results):
    for host, cases in results.items():
        assert cases["control"]["accepted"] is True, (host, cases["control"])
        assert_nothing_changed(host, cases["control"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_anything_changes(results, case):
    role, fragments = CASES[case][0], CASES[case][2]
    allowed = preflight_task_names(role)
    for host, cases in results.items():
        outcome = cases[case]
        assert outcome["accepted"] is False, host + ": the bad input was accepted"
        task = outcome["task"]
        assert task.startswith("Validating arguments against arg spec") or any(p.match(task) for p in allowed), (
            host + ": failed in " + task + ", not in argument validation or preflight"
        )
        for fragment in fragments:
            assert fragment in outcome["msg"], (host, outcome["msg"])
        assert_nothing_changed(host, outcome)
