"""Four real apps on one host: a Flask blog with a shared instance folder, a factory reading a
file the role writes, an app doing its own Basic authentication, and pypiserver from PyPI."""

import base64
import json
import uuid

import pytest
from apptest import daemon_processes, http, http_json

ROOT = "/srv/modwsgi"
APPS = ("blog", "settings", "vault", "pypi")
VAULT_USER = "molecule"  # vars/apps.yml
VAULT_PASSWORD = "molecule-vault-password"

# One request inside the container, with a method, a form body and extra headers
# (apptest.http only sends GET with a Host header).
REQUEST_PROBE = (
    "import http.client, json, sys\n"
    "method, path, host, body, headers = sys.argv[1:6]\n"
    "conn = http.client.HTTPConnection('127.0.0.1', 80, timeout=20)\n"
    "headers = dict(json.loads(headers), Host=host)\n"
    "if body:\n"
    "    headers['Content-Type'] = 'application/x-www-form-urlencoded'\n"
    "conn.request(method, path, body=body.encode('utf-8') if body else None, headers=headers)\n"
    "resp = conn.getresponse()\n"
    "print(json.dumps({'status': resp.status, 'headers': dict(resp.getheaders()),\n"
    "                  'body': resp.read().decode('utf-8', 'replace')}))\n"
)


def request(host, method, path, server_name, body="", headers=None):
    out = host.check_output(
        "python3 -c %s %s %s %s %s %s", REQUEST_PROBE, method, path, server_name, body, json.dumps(headers or {})
    )
    return json.loads(out)


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


@pytest.mark.parametrize(
    "server_name,path,body",
    [
        ("blog.test", "/health", "ok"),
        ("settings.test", "/health", "ok"),
        ("vault.test", "/health", "ok"),
        ("pypi.test", "/health", "Ok"),
    ],
)
def test_each_app_answers_on_its_host_name(host, server_name, path, body):
    resp = http(host, path, server_name)
    assert resp["status"] == 200, resp
    assert resp["body"] == body


@pytest.mark.parametrize("name", APPS)
def test_each_app_runs_as_its_own_user(host, name):
    procs = daemon_processes(host, name)
    assert procs, "no (wsgi:%s) processes" % name
    assert {p[0] for p in procs} == {"wsgi-" + name}
    assert host.user("wsgi-" + name).uid != 0


def test_blog_keeps_a_post_written_through_it(host):
    title = "verify " + uuid.uuid4().hex
    created = request(host, "POST", "/posts", "blog.test", body="title=" + title.replace(" ", "+"))
    assert created["status"] == 201, created
    body = http_json(host, "/", "blog.test")
    assert body["app"] == "blog"
    assert body["user"] == "wsgi-blog"
    assert body["release"] == "dev"
    assert title in [post["title"] for post in body["posts"]]
    # pre_switch's migrate ran after setup's init-db: the column it adds is there.
    assert all("tags" in post for post in body["posts"])


def test_blog_database_lives_in_the_shared_instance_folder(host):
    instance = host.file(ROOT + "/blog/current/src/instance")
    assert instance.is_symlink
    assert instance.linked_to == ROOT + "/blog/data/instance"
    database = host.file(ROOT + "/blog/data/instance/blog.sqlite")
    assert database.is_file
    assert database.user == "wsgi-blog"


def test_setup_ran_once(host):
    # init-db appends a line each time it runs: converge ran it, the idempotence run did not.
    log = host.file(ROOT + "/blog/data/setup.log")
    assert log.user == "wsgi-blog"  # run as the app's user
    lines = log.content_string.splitlines()
    assert len(lines) == 1, lines
    assert "init-db" in lines[0]


def test_settings_answers_from_the_file_the_role_wrote(host):
    resp = http(host, "/", "settings.test")
    assert resp["status"] == 200, resp
    assert resp["body"] == "greeting=hello\n"
    settings = host.file(ROOT + "/settings/config/settings.ini")
    assert settings.content_string == "[app]\ngreeting = hello\n"
    assert settings.user == "wsgi-settings"
    assert settings.mode == 0o640


def test_vault_asks_for_credentials(host):
    resp = request(host, "GET", "/", "vault.test")
    assert resp["status"] == 401, resp
    assert resp["headers"]["WWW-Authenticate"] == 'Basic realm="vault"'
    wrong = request(host, "GET", "/", "vault.test", headers=basic(VAULT_USER, "not-the-password"))
    assert wrong["status"] == 401, wrong


def test_vault_opens_with_credentials(host):
    # Apache passes the Authorization header on only with pass_authorization: true.
    resp = request(host, "GET", "/", "vault.test", headers=basic(VAULT_USER, VAULT_PASSWORD))
    assert resp["status"] == 200, resp
    assert resp["body"] == "secret\n"


def test_pypiserver_serves_its_simple_index(host):
    resp = http(host, "/simple/", "pypi.test")
    assert resp["status"] == 200, resp
    assert "Simple Index" in resp["body"]
    packages = host.file(ROOT + "/pypi/data/packages")
    assert packages.is_directory
    assert packages.user == "wsgi-pypi"  # made by setup, as the app's user


def test_pypiserver_lists_the_packages_of_its_data_directory(host):
    # The factory's roots argument was expanded to the app's data directory.
    probe = ROOT + "/pypi/data/packages/modwsgi_probe-1.0.tar.gz"
    host.check_output("touch %s", probe)
    try:
        resp = http(host, "/simple/", "pypi.test")
        assert resp["status"] == 200, resp
        assert "modwsgi-probe" in resp["body"]
    finally:
        host.check_output("rm -f %s", probe)
