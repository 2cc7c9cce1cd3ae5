"""The good release the side effect starts from."""

from apptest import http_json


def test_good_release_answers(host):
    body = http_json(host, "/", "rollback.test")
    assert body["release"] == "dev"
    assert body["user"] == "wsgi-hello"


def test_no_previous_release_yet(host):
    assert not host.file("/srv/modwsgi/hello/previous").exists
