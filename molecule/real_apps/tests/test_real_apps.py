"""Seven real apps on one host: a Flask blog with a shared instance folder, a factory reading a
file the role writes, an app doing its own Basic authentication, and pypiserver from PyPI; then
Roundup (a factory needing its setup), Flask's tutorial (config in a shared directory) and a
django-admin startproject project (a settings module in each release, SQLite shared as a file)."""

import base64
import json
import os
import pathlib
import uuid

import pytest
from apptest import daemon_processes, http, http_json

ROOT = "/srv/modwsgi"
APPS = ("blog", "settings", "vault", "pypi", "roundup", "flaskr", "django")
VAULT_USER = "molecule"  # vars/apps.yml
VAULT_PASSWORD = "molecule-vault-password"
ROUNDUP_PASSWORD = "molecule-roundup-admin"
FLASKR_SECRET_KEY = "molecule-flaskr-secret-key"
DJANGO_PASSWORD = "molecule-django-admin"

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
        ("roundup.test", "/", "Roundup"),
        ("flaskr.test", "/", "Posts"),
        ("django.test", "/admin/login/", "Django administration"),
    ],
)
def test_each_app_answers_on_its_host_name(host, server_name, path, body):
    resp = http(host, path, server_name)
    assert resp["status"] == 200, resp
    assert resp["body"] == body if len(body) < 4 else body in resp["body"]


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


# --- Roundup: a factory that needs what its setup commands make ------------------------------


def test_roundup_tracker_was_made_by_setup_in_the_data_directory(host):
    config = host.file(ROOT + "/roundup/data/tracker/config.ini")
    assert config.is_file
    assert config.user == "wsgi-roundup"
    assert "web = http://roundup.test/" in config.content_string


def test_roundup_admin_logs_in_with_the_password_from_secret_env(host):
    # initialise got ${ROUNDUP_ADMIN_PASSWORD} expanded on the host only.
    body = "__login_name=admin&__login_password=%s&%%40action=login" % ROUNDUP_PASSWORD
    resp = request(host, "POST", "/", "roundup.test", body=body)
    assert resp["status"] in (200, 302, 303), resp["status"]
    assert "Invalid login" not in resp["body"]
    assert "roundup_session" in resp["headers"].get("Set-Cookie", ""), resp["headers"]
    wrong = request(host, "POST", "/", "roundup.test", body=body.replace(ROUNDUP_PASSWORD, "wrong-password"))
    assert "roundup_session" not in wrong["headers"].get("Set-Cookie", "") or "Invalid login" in wrong["body"]


# --- Flask's tutorial: config written into a shared directory before the first release -------


def test_flaskr_config_is_in_the_shared_instance_folder(host):
    link = host.file(ROOT + "/flaskr/current/src/flask-3.1.3/examples/tutorial/instance")
    assert link.is_symlink
    assert link.linked_to == ROOT + "/flaskr/data/instance"
    config = host.file(ROOT + "/flaskr/data/instance/config.py")
    assert (config.user, config.group, config.mode) == ("wsgi-flaskr", "wsgi-flaskr", 0o640)
    assert host.file(ROOT + "/flaskr/data/instance/flaskr.sqlite").user == "wsgi-flaskr"


def test_flaskr_signs_its_session_with_the_secret_key_from_files(host):
    user = "u" + uuid.uuid4().hex[:10]
    form = "username=%s&password=pw-%s" % (user, user)
    assert request(host, "POST", "/auth/register", "flaskr.test", body=form)["status"] == 302
    login = request(host, "POST", "/auth/login", "flaskr.test", body=form)
    assert login["status"] == 302, login
    cookie = login["headers"]["Set-Cookie"].split("session=", 1)[1].split(";", 1)[0]
    check = (
        "import sys\n"
        "from flask import Flask\n"
        "app = Flask('check'); app.secret_key = sys.argv[1]\n"
        "print(app.session_interface.get_signing_serializer(app).loads(sys.argv[2])['user_id'])\n"
    )
    python = ROOT + "/flaskr/current/venv/bin/python"
    assert host.run("%s -c %s %s %s", python, check, FLASKR_SECRET_KEY, cookie).rc == 0
    assert host.run("%s -c %s %s %s", python, check, "dev", cookie).rc != 0  # not the tutorial's default key


# --- django-admin startproject: a settings module in the release, SQLite shared as a file -----


def test_django_settings_module_is_in_the_release_and_root_owns_it(host):
    settings = host.file(ROOT + "/django/current/src/mysite/production.py")
    assert (settings.user, settings.group) == ("root", "wsgi-django")
    assert 'ALLOWED_HOSTS = ["django.test"]' in settings.content_string


def test_django_database_is_a_shared_file(host):
    link = host.file(ROOT + "/django/current/src/db.sqlite3")
    assert link.is_symlink
    assert link.linked_to == ROOT + "/django/data/db.sqlite3"
    database = host.file(ROOT + "/django/data/db.sqlite3")
    assert database.is_file
    assert database.user == "wsgi-django"


def test_django_superuser_from_setup_is_in_the_database(host):
    query = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('select username from auth_user').fetchall())"
    out = host.check_output("python3 -c %s %s", query, ROOT + "/django/data/db.sqlite3")
    assert "admin" in out


def test_django_admin_css_comes_from_collectstatic_through_apache(host):
    resp = http(host, "/static/admin/css/base.css", "django.test")
    assert resp["status"] == 200, resp["status"]


# --- The code is read-only to the app (issue: an app cannot rewrite its own code) ---------------


@pytest.mark.parametrize("name", ["blog", "django", "flaskr"])
def test_the_app_cannot_write_its_code_or_venv_but_writes_its_data(host, name):
    user = "wsgi-" + name
    current = host.file(ROOT + "/" + name + "/current").linked_to
    assert host.file(current).user == "root"
    assert host.run("runuser -u %s -- touch %s", user, current + "/src/modwsgi-probe").rc != 0
    assert host.run("runuser -u %s -- touch %s", user, ROOT + "/" + name + "/current/venv/modwsgi-probe").rc != 0
    assert host.run("runuser -u %s -- touch %s", user, ROOT + "/" + name + "/data/modwsgi-probe").rc == 0
    host.run("rm -f %s", ROOT + "/" + name + "/data/modwsgi-probe")


# --- No secret in the output: the converge ran at -vvv (tests/scripts/run-scenario.sh) -----------

SECRETS = (VAULT_PASSWORD, ROUNDUP_PASSWORD, FLASKR_SECRET_KEY, DJANGO_PASSWORD,
           "molecule-django-secret-key-that-is-long-enough")  # vars/apps.yml


def test_no_secret_appears_in_the_verbose_converge_log():
    path = pathlib.Path(os.environ.get("MODWSGI_LOG_DIR", ".cache/logs")) / "real_apps-converge.log"
    assert path.exists(), "%s is missing: run the scenario with tests/scripts/run-scenario.sh real_apps" % path
    text = path.read_text(errors="replace")
    assert "<127.0.0.1> EXEC" in text or "ESTABLISH" in text, "the log is not at -vvv"
    assert "roundup-admin" in text, "the log does not cover the setup commands"
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == []
