"""A small Flask app for modwsgi.deploy: JSON status, a health check and a static file.

WSGI entry point: ``hello:app``. Works at any mount (``/`` or e.g. ``/api``): every URL the
app produces comes from ``url_for``, which includes the ``SCRIPT_NAME`` mod_wsgi passes in.
"""

import os
import pwd
import sys
from pathlib import Path

from flask import Flask, url_for

# The deploy may drop a RELEASE file next to this package. It is read once, at import time;
# a daemon reload imports the app again and so picks up a new one.
_RELEASE_FILE = Path(__file__).resolve().parent.parent / "RELEASE"
try:
    RELEASE = _RELEASE_FILE.read_text(encoding="utf-8").strip()
except FileNotFoundError:
    RELEASE = "dev"

app = Flask(__name__)


@app.get("/")
def index():
    return {
        "app": "flask-example",
        "greeting": os.environ.get("GREETING", "Hello"),
        "release": RELEASE,
        "secret_configured": bool(os.environ.get("SECRET_TOKEN")),
        "user": pwd.getpwuid(os.getuid()).pw_name,
        "python": "%d.%d" % sys.version_info[:2],
    }


@app.get("/health")
def health():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/page")
def page():
    stylesheet = url_for("static", filename="style.css")
    return (
        "<!doctype html>\n"
        "<html><head><title>flask-example</title>"
        f'<link rel="stylesheet" href="{stylesheet}"></head>\n'
        '<body><h1 class="banner">flask-example</h1>'
        "<p>Served by mod_wsgi in daemon mode.</p></body></html>\n"
    )


if __name__ == "__main__":
    # Local development only; under mod_wsgi the module is imported, never run.
    app.run(debug=True)
