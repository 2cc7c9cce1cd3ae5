"""The SQLite connection of a request, and the CLI commands that create and migrate the schema."""

import datetime
import os
import sqlite3

import click
from flask import current_app, g


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"], detect_types=sqlite3.PARSE_DECLTYPES)
        g.db.row_factory = sqlite3.Row
    return g.db


def close_db(_error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db():
    """Drop every table and create the schema of the first version (no ``tags`` column)."""
    db = get_db()
    with current_app.open_resource("schema.sql") as schema:
        db.executescript(schema.read().decode("utf-8"))
    db.commit()


def migrate_db():
    """Bring the schema up to date; returns what changed. Safe to run on every release."""
    db = get_db()
    columns = {row["name"] for row in db.execute("PRAGMA table_info(post)")}
    if not columns:
        raise click.ClickException("no post table: run 'flask --app blog init-db' first")
    done = []
    if "tags" not in columns:
        db.execute("ALTER TABLE post ADD COLUMN tags TEXT NOT NULL DEFAULT ''")
        done.append("added post.tags")
    db.commit()
    return done


def _log_setup(message):
    """One line per run in $MODWSGI_APP_DATA/setup.log (the instance folder outside a deploy)."""
    data = os.environ.get("MODWSGI_APP_DATA") or current_app.instance_path
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with open(os.path.join(data, "setup.log"), "a", encoding="utf-8") as log:
        log.write("%s %s pid=%d\n" % (stamp, message, os.getpid()))


@click.command("init-db")
def init_db_command():
    """Create the tables, dropping the existing ones and every post in them."""
    init_db()
    _log_setup("init-db " + current_app.config["DATABASE"])
    click.echo("Initialized the database.")


@click.command("migrate")
def migrate_command():
    """Apply the schema changes the database does not have yet."""
    done = migrate_db()
    click.echo("Migrated: " + ", ".join(done) if done else "Nothing to migrate.")


def init_app(app):
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
    app.cli.add_command(migrate_command)
