"""After modwsgi.deploy.site: every host of the fleet serves release v1 from its own daemon processes."""

from apptest import daemon_processes, http, http_json

testinfra_hosts = ["fleet1", "fleet2", "fleet3", "fleet4"]


def test_serves_the_first_release(host):
    answer = http_json(host, "/", "fleet.test")
    assert answer["release"] == "v1"
    assert answer["user"] == "wsgi-fleet"


def test_health_check_path_answers(host):
    assert http(host, "/health", "fleet.test")["status"] == 200


def test_daemon_processes_run_as_the_app_user(host):
    processes = daemon_processes(host, "fleet")
    assert len(processes) >= 2
    assert {user for user, _pid in processes} == {"wsgi-fleet"}


def test_the_first_release_is_current_and_nothing_came_before(host):
    assert host.file("/srv/modwsgi/fleet/current").is_symlink
    assert host.file("/srv/modwsgi/fleet/current/src/RELEASE").content_string.strip() == "v1"
    assert not host.file("/srv/modwsgi/fleet/previous").exists
