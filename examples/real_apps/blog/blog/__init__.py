"""A small blog in the layout of Flask's tutorial: an app factory and an instance folder.

WSGI entry point: ``blog:create_app()``. The SQLite database is ``blog.sqlite`` in the
instance folder, ``instance/`` next to this package (deploy it with ``shared: [instance]`` so
that the database outlives a release). ``flask --app blog init-db`` creates the schema, dropping
whatever was there; ``flask --app blog migrate`` brings an existing database up to date and may
run any number of times.
"""

import os
import pwd
from pathlib import Path

from flask import Flask

# The deploy may drop a RELEASE file next to this package. It is read once, at import time.
_RELEASE_FILE = Path(__file__).resolve().parent.parent / "RELEASE"
try:
    RELEASE = _RELEASE_FILE.read_text(encoding="utf-8").strip()
except FileNotFoundError:
    RELEASE = "dev"


def create_app(test_config=None):
    """Build the app. Nothing here touches the database: the schema may not exist yet."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DATABASE=os.path.join(app.instance_path, "blog.sqlite"))
    if test_config is None:
        # Optional settings of this installation, e.g. DATABASE = "/elsewhere/blog.sqlite".
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)

    # The instance folder may be a link to a directory that outlives releases.
    try:
        os.makedirs(app.instance_path, exist_ok=True)
    except OSError:
        pass

    app.config["RELEASE"] = RELEASE
    app.config["USER"] = pwd.getpwuid(os.getuid()).pw_name

    from . import db, posts

    db.init_app(app)
    app.register_blueprint(posts.bp)
    return app
