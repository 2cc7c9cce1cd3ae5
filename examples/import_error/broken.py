"""DELIBERATELY BROKEN -- a troubleshooting example for modwsgi.deploy. Do not copy.

WSGI entry point: ``broken:app``.

The module imports a package that requirements.txt does not list (and that does not exist),
so importing the entry point fails with ModuleNotFoundError. The app role's ``wsgi_check``
reports the import error and the release is never switched to.
"""

import flask_missing_extension  # the bug: not in requirements.txt, not on PyPI
from flask import Flask

app = Flask(__name__)
flask_missing_extension.init_app(app)


@app.get("/")
def index():
    return "never served\n"
