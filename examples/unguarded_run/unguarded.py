"""DELIBERATELY BROKEN -- a troubleshooting example for modwsgi.deploy. Do not copy.

WSGI entry point: ``unguarded:app``.

The ``app.run()`` at the bottom is at module level instead of under
``if __name__ == "__main__":``. mod_wsgi imports the module, so that call starts Flask's
development server inside the Apache daemon process: the first process to get port 5000 hangs
there, serving nothing through Apache, and every other one fails to bind, calls sys.exit and
leaves "SystemExit exception raised by WSGI script ... ignored" in Apache's error log. The app
role's ``wsgi_check`` refuses to switch to a release that contains such a call.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "this line is never reached under mod_wsgi\n"


app.run()  # the bug: must be guarded by `if __name__ == "__main__":`
