"""Django at / and Flask at /api on one host name, each as its own user."""

import pytest
from apptest import daemon_processes, http, http_json

SITE = "site.test"


@pytest.mark.parametrize("name,user", [("django", "wsgi-django"), ("api", "wsgi-api")])
def test_each_app_runs_as_its_own_user(host, name, user):
    procs = daemon_processes(host, name)
    assert procs, "no (wsgi:%s) processes" % name
    assert {p[0] for p in procs} == {user}


def test_django_answers_at_root_after_migrations(host):
    body = http_json(host, "/", SITE)
    assert body["app"] == "django-example"
    assert body["notes"] == 0  # the notes table exists: migrate ran
    assert body["user"] == "wsgi-django"
    assert host.file("/srv/modwsgi/django/data/db.sqlite3").user == "wsgi-django"


def test_server_alias_reaches_the_same_site(host):
    assert http_json(host, "/", "www.site.test")["app"] == "django-example"


def test_django_admin_login_page(host):
    resp = http(host, "/admin/login/", SITE)
    assert resp["status"] == 200
    assert "Django administration" in resp["body"]


def test_django_admin_css_is_served_through_the_static_alias(host):
    resp = http(host, "/static/admin/css/base.css", SITE)
    assert resp["status"] == 200
    assert resp["headers"]["Content-Type"].startswith("text/css")
    # Served by Apache from collectstatic's output in the current release.
    collected = host.file("/srv/modwsgi/django/current/src/staticfiles/admin/css/base.css")
    assert collected.exists
    assert resp["body"] == collected.content_string


def test_flask_answers_under_api(host):
    body = http_json(host, "/api/", SITE)
    assert body["app"] == "flask-example"
    assert body["user"] == "wsgi-api"
    assert http(host, "/api/health", SITE)["body"] == "ok"
    page = http(host, "/api/page", SITE)
    assert "/api/static/style.css" in page["body"]
    assert http(host, "/api/static/style.css", SITE)["status"] == 200


def test_longest_mount_comes_first(host):
    conf = host.file("/etc/apache2/sites-available/modwsgi-site.test-80.conf").content_string
    assert conf.index("WSGIScriptAlias /api ") < conf.index("WSGIScriptAlias / ")
    assert conf.count("<VirtualHost") == 1
