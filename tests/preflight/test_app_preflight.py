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


def test_good_app_passes_preflight(run_playbook):
    run = run_playbook("app_preflight.yml", {"modwsgi_apps": [GOOD]})
    assert run.proc.returncode == 0, run.proc.stdout[-3000:]
    ran = run.ran()
    assert "modwsgi.deploy.app : Check every app's keys and what the apps share" in ran
