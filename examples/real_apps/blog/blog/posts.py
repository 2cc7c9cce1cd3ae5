"""The routes: list the posts, add one, and a health check that needs no database."""

from flask import Blueprint, current_app, request

from .db import get_db

bp = Blueprint("posts", __name__)


def _as_dict(row):
    post = dict(row)
    post["created"] = str(post["created"])
    return post


@bp.get("/")
def index():
    rows = get_db().execute("SELECT * FROM post ORDER BY id").fetchall()
    return {
        "app": "blog",
        "release": current_app.config["RELEASE"],
        "user": current_app.config["USER"],
        "posts": [_as_dict(row) for row in rows],
    }


@bp.post("/posts")
def create():
    title = request.form.get("title", "").strip()
    if not title:
        return {"error": "title is required"}, 400
    db = get_db()
    cursor = db.execute("INSERT INTO post (title) VALUES (?)", (title,))
    db.commit()
    row = db.execute("SELECT * FROM post WHERE id = ?", (cursor.lastrowid,)).fetchone()
    return _as_dict(row), 201


@bp.get("/health")
def health():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
