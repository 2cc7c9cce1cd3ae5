"""The app the side effect loads, and the load generator it uses."""

from apptest import daemon_processes, http_json


def test_app_answers(host):
    assert http_json(host, "/", "zero.test")["app"] == "flask-example"


def test_daemon_processes_preloaded(host):
    # Preloading (WSGIScriptAlias process-group= application-group=) starts the
    # app with the daemon processes, not on the first request.
    assert len(daemon_processes(host, "zero")) >= 2
    conf = host.file("/etc/apache2/sites-available/modwsgi-zero.test-80.conf").content_string
    assert "process-group=zero application-group=%{GLOBAL}" in conf


def test_wrk_is_installed(host):
    assert host.exists("wrk")
