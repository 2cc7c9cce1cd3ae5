"""Bad app input stops the app role before it changes anything, naming the variable."""

import copy
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
EXAMPLES = HERE.parent.parent / "examples"

GOOD = {
    "name": "hello",
    "server_name": "hello.example.com",
    "entry_point": "hello:app",
    "source": {"type": "dir", "path": str(EXAMPLES / "flask_app")},
}


def app(**changes):
    entry = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


CASES = {
    "name-slash": ([app(name="a/b")], ["modwsgi_apps[0]", ".name", "lowercase letters"]),
    "name-dotdot": ([app(name="..")], ["modwsgi_apps[0]", ".name"]),
    "name-space": ([app(name="my app")], ["modwsgi_apps[0]", ".name"]),
    "name-missing": ([app(name=None)], ["modwsgi_apps", "name"]),
    "duplicate-name": ([app(), app(server_name="other.example.com")], ["modwsgi_apps", "'hello' is used by 2 apps"]),
    "duplicate-url": ([app(), app(name="other")], ["modwsgi_apps", "hello.example.com:80:/", "own mount"]),
    "server-name": ([app(server_name="bad name")], ["modwsgi_apps[0] (hello).server_name", "host name"]),
    "port-range": ([app(port=70000)], ["modwsgi_apps[0] (hello).port", "between 1 and 65535"]),
    "port-type": ([app(port="eighty")], ["modwsgi_apps", "port", "int"]),
    "mount-slash": ([app(mount="api")], ["modwsgi_apps[0] (hello).mount", "starting with '/'"]),
    "mount-trailing": ([app(mount="/api/")], ["modwsgi_apps[0] (hello).mount", "trailing"]),
    "entry-callable": ([app(entry_point="hello")], ["modwsgi_apps[0] (hello).entry_point", "module:callable", "module:factory()"]),
    "entry-factory-star-args": ([app(entry_point="hello:create(*args)")], ["modwsgi_apps[0] (hello).entry_point", "module:factory("]),
    "setup-not-strings": ([app(setup=[["flask", "init-db"]])], ["modwsgi_apps", "setup"]),
    "files-absolute-in-app-dir": (
        [app(files=[{"path": "/srv/modwsgi/hello/env.json", "content": "{}"}])],
        ["modwsgi_apps[0] (hello).files[0].path", "inside the app's directory"],
    ),
    "files-missing-src": ([app(files=[{"path": "a.ini", "src": "/nonexistent/a.ini.j2"}])], ["modwsgi_apps[0] (hello).files[0].src"]),
    "shared-dotdot": ([app(shared=["../data"])], ["modwsgi_apps[0] (hello).shared[0]"]),
    "secret-env-expanded": ([app(secret_env={"KEY": "${MODWSGI_APP_DATA}/key"})], ["modwsgi_apps[0] (hello).secret_env", "never expanded"]),
    "source-missing-path": (
        [app(source={"type": "dir", "path": "/nonexistent/app"})],
        ["modwsgi_apps[0] (hello).source.path", "existing directory on the controller"],
    ),
    "source-type": ([app(source={"type": "svn", "path": "/tmp"})], ["modwsgi_apps", "type", "dir, git, archive, pypi"]),
    "archive-format": (
        [app(source={"type": "archive", "url": "https://example.com/app.rar"})],
        ["modwsgi_apps[0] (hello).source", ".tar.gz"],
    ),
    "unknown-key": ([app(procs=2)], ["modwsgi_apps", "procs"]),
    "processes-zero": ([app(processes=0)], ["modwsgi_apps[0] (hello).processes", "at least 1"]),
    "keep-negative": ([app(keep_releases=-1)], ["modwsgi_apps[0] (hello).keep_releases", "at least 1"]),
    "user-root": ([app(user="root")], ["modwsgi_apps[0] (hello).user", "never as root"]),
    "tls-no-key": ([app(tls={"cert": "/etc/ssl/certs/a.pem"})], ["modwsgi_apps", "key"]),
    "static-url": ([app(static=[{"url": "static", "path": "hello/static"}])], ["modwsgi_apps[0] (hello).static[0].url"]),
    "env-name": ([app(env={"BAD-NAME": "x"})], ["modwsgi_apps[0] (hello).env", "BAD-NAME"]),
    "health-path": ([app(health_check={"path": "health"})], ["modwsgi_apps[0] (hello).health_check.path"]),
    "requirements-escape": ([app(requirements="../secrets.txt")], ["modwsgi_apps[0] (hello).requirements"]),
    "mode": ([app(mode="threaded")], ["modwsgi_apps[0] (hello).mode", "must be daemon"]),
    "mode-embedded": ([app(mode="embedded")], ["modwsgi_apps[0] (hello).mode", "removed"]),
    "daemon-options-user": (
        [app(daemon_options={"user": "www-data"})],
        ["modwsgi_apps[0] (hello).daemon_options.user", "the app's user key"],
    ),
    "daemon-options-python-home": (
        [app(daemon_options={"python-home": "/opt/other"})],
        ["modwsgi_apps[0] (hello).daemon_options.python-home", "the app's python key"],
    ),
    "apps-type": ({"name": "hello"}, ["modwsgi_apps", "list"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_app_fails_in_preflight(run_playbook, case):
    apps, expected = CASES[case]
    run = run_playbook("app_preflight.yml", {"modwsgi_apps": apps})
    assert run.proc.returncode != 0, "the run did not fail"
    failures = run.failures()
    assert len(failures) == 1, failures
    failed_task, result = failures[0]
    path = failed_task["path"]
    assert "/roles/app/tasks/preflight/" in path or "Validating arguments against arg spec" in failed_task["name"], failed_task
    for fragment in expected:
        assert fragment in result.get("msg", ""), result.get("msg")
    assert run.changed() == []
    ran = run.ran()
    assert not [name for name in ran if "Create" in name or "Write" in name or "Install" in name], ran


# Bad keys in modwsgi_app_defaults, and bad app keys through the other entry points: the app
# keys are documented once (main's modwsgi_apps) and checked against that specification by
# tasks/preflight/app_spec.yml wherever they can be set. (extra variables, fragments of the message)
SPEC_CASES = {
    "defaults-unknown-key": ({"modwsgi_app_defaults": {"procs": 2}}, ["modwsgi_app_defaults", "procs", "Supported parameters"]),
    "defaults-name": ({"modwsgi_app_defaults": {"name": "hello"}}, ["modwsgi_app_defaults", "name"]),
    "defaults-port-type": ({"modwsgi_app_defaults": {"port": "eighty"}}, ["modwsgi_app_defaults", "port", "int"]),
    "defaults-state-choice": ({"modwsgi_app_defaults": {"state": "gone"}}, ["modwsgi_app_defaults", "state", "present, absent"]),
    "defaults-source-type": (
        {"modwsgi_app_defaults": {"source": {"type": "svn"}}},
        ["modwsgi_app_defaults -> source", "dir, git, archive, pypi"],
    ),
    "defaults-tls-no-key": ({"modwsgi_app_defaults": {"tls": {"cert": "/etc/ssl/certs/a.pem"}}}, ["modwsgi_app_defaults -> tls", "key"]),
    "defaults-health-unknown": (
        {"modwsgi_app_defaults": {"health_check": {"url": "/health"}}},
        ["modwsgi_app_defaults", "health_check", "url"],
    ),
    "defaults-not-a-dict": ({"modwsgi_app_defaults": ["port"]}, ["modwsgi_app_defaults", "dict"]),
    "rollback-unknown-key": (
        {"modwsgi_test_entry_point": "rollback", "modwsgi_apps": [app(procs=2)]},
        ["modwsgi_apps", "procs", "Supported parameters"],
    ),
    "rollback-port-type": ({"modwsgi_test_entry_point": "rollback", "modwsgi_apps": [app(port="eighty")]}, ["modwsgi_apps", "port", "int"]),
    "preflight-source-type": (
        {"modwsgi_test_entry_point": "preflight", "modwsgi_apps": [app(source={"type": "svn", "path": "/tmp"})]},
        ["modwsgi_apps", "type", "dir, git, archive, pypi"],
    ),
    "preflight-defaults-threads": (
        {"modwsgi_test_entry_point": "preflight", "modwsgi_app_defaults": {"threads": "many"}},
        ["modwsgi_app_defaults", "threads", "int"],
    ),
}


@pytest.mark.parametrize("case", sorted(SPEC_CASES))
def test_bad_key_fails_in_preflight_wherever_it_is_set(run_playbook, case):
    extra_vars, expected = SPEC_CASES[case]
    run = run_playbook("app_preflight.yml", dict({"modwsgi_apps": [GOOD]}, **extra_vars))
    assert run.proc.returncode != 0, "the run did not fail"
    failures = run.failures()
    assert len(failures) == 1, failures
    failed_task, result = failures[0]
    assert "/roles/app/tasks/preflight/" in failed_task["path"] or "Validating arguments against arg spec" in failed_task["name"], failed_task
    for fragment in expected:
        assert fragment in result.get("msg", ""), result.get("msg")
    assert run.changed() == []


@pytest.mark.parametrize("entry_point", ["main", "rollback", "preflight"])
def test_good_app_passes_the_key_check_of_every_entry_point(run_playbook, entry_point):
    run = run_playbook(
        "app_preflight.yml",
        {"modwsgi_test_entry_point": entry_point, "modwsgi_apps": [GOOD], "modwsgi_app_defaults": {"port": 8080}},
    )
    assert run.proc.returncode == 0, run.proc.stdout[-3000:]
    assert "modwsgi.deploy.app : Check the keys of modwsgi_apps and modwsgi_app_defaults" in run.ran()


def test_good_app_passes_preflight(run_playbook):
    run = run_playbook("app_preflight.yml", {"modwsgi_apps": [GOOD]})
    assert run.proc.returncode == 0, run.proc.stdout[-3000:]
    ran = run.ran()
    assert "modwsgi.deploy.app : Check every app's keys and what the apps share" in ran
