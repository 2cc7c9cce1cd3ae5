"""The Flask example and a PyPI app, each in its own daemon group, user and venv."""

import pytest
from apptest import daemon_processes, distro_python, http, http_json

ROOT = "/srv/modwsgi"


def test_flask_app_answers_with_its_environment(host):
    body = http_json(host, "/", "hello.test")
    assert body["app"] == "flask-example"
    assert body["greeting"] == "Bonjour"  # env reached os.environ before import
    assert body["secret_configured"] is True  # so did secret_env
    assert body["user"] == "wsgi-hello"
    assert body["python"] == distro_python(host)


def test_flask_static_files_are_served_by_apache(host):
    resp = http(host, "/static/style.css", "hello.test")
    assert resp["status"] == 200
    assert resp["headers"]["Content-Type"].startswith("text/css")
    assert resp["body"] == host.file(ROOT + "/hello/current/src/hello/static/style.css").content_string


def test_pypi_app_answers_from_site_packages(host):
    resp = http(host, "/", "info.test")
    assert resp["status"] == 200
    assert "WSGI Information" in resp["body"]
    assert "/srv/modwsgi/wsgiinfo/current/venv" in resp["body"]


@pytest.mark.parametrize("name,user,count", [("hello", "wsgi-hello", 2), ("wsgiinfo", "wsgi-wsgiinfo", 1)])
def test_daemon_processes_run_as_the_app_user(host, name, user, count):
    procs = daemon_processes(host, name)
    assert len(procs) == count
    assert {p[0] for p in procs} == {user}
    assert host.user(user).uid != 0
    assert user != "www-data"


def test_release_layout(host):
    current = host.file(ROOT + "/hello/current")
    assert current.is_symlink
    assert current.linked_to.startswith(ROOT + "/hello/releases/")
    release = host.file(current.linked_to)
    assert release.user == "root"  # read-only to the app (0.3.0)
    assert host.file(current.linked_to + "/.modwsgi-release").exists
    assert host.file(current.linked_to + "/venv/bin/python").exists
    # One release: an unchanged source made no new one on the idempotence run.
    assert len(host.file(ROOT + "/hello/releases").listdir()) == 1


def test_release_venv_is_a_shared_venv(host):
    # releases/<id>/venv -> ../../venvs/<fingerprint>, complete (its marker is
    # there) and the app user's; the only one, as there is one release.
    link = host.file(host.file(ROOT + "/hello/current").linked_to + "/venv")
    assert link.is_symlink
    venv = host.file(link.linked_to)
    assert venv.path.startswith(ROOT + "/hello/venvs/")
    assert venv.is_directory
    assert venv.user == "root"
    assert host.file(venv.path + "/.modwsgi-venv-" + venv.path.rsplit("/", 1)[1]).exists
    assert host.file(ROOT + "/hello/venvs").listdir() == [venv.path.rsplit("/", 1)[1]]
    # Handing the venv to the app user does not follow bin/python out of it.
    assert host.file("/usr/bin/python3").user == "root"


def test_vhost_is_enabled_the_debian_way(host):
    link = host.file("/etc/apache2/sites-enabled/modwsgi-hello.test-80.conf")
    assert link.is_symlink
    assert link.linked_to == "/etc/apache2/sites-available/modwsgi-hello.test-80.conf"
    conf = host.file(link.linked_to).content_string
    assert "WSGIDaemonProcess hello " in conf
    assert "process-group=hello application-group=%{GLOBAL}" in conf
    assert "python-home=/srv/modwsgi/hello/current/venv" in conf
