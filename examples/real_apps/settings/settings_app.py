"""A plain WSGI app configured by an INI file that its factory reads once.

WSGI entry point: ``settings_app:make_app("/path/to/settings.ini")``. The file is read when the
app is made, so a changed file takes effect only once the process that serves the app restarts.

- ``GET /``: ``greeting=<[app] greeting>``
- ``GET /pid``: the serving process's PID, to tell whether it was restarted.
- ``GET /health``: ``ok``.
"""

import configparser
import os


def make_app(config_path):
    parser = configparser.ConfigParser()
    # read_file, unlike read, fails on a missing file instead of ignoring it.
    with open(config_path, encoding="utf-8") as config_file:
        parser.read_file(config_file)
    greeting = parser.get("app", "greeting")

    def application(environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if path == "/":
            status, body = "200 OK", "greeting=%s\n" % greeting
        elif path == "/pid":
            status, body = "200 OK", "%d\n" % os.getpid()
        elif path == "/health":
            status, body = "200 OK", "ok"
        else:
            status, body = "404 Not Found", "not found\n"
        data = body.encode("utf-8")
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))])
        return [data]

    return application
