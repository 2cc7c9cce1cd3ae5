"""A plain WSGI app that does its own HTTP Basic authentication.

WSGI entry point: ``vault_app:application``. The one user and password come from the
environment variables ``VAULT_USER`` and ``VAULT_PASSWORD``; with either unset, nobody gets in.
The app sees the credentials only if the web server passes the ``Authorization`` header on
(mod_wsgi drops it unless ``WSGIPassAuthorization On``: the role's ``pass_authorization``).

- ``GET /``: ``secret`` with the right credentials, else 401 with a Basic challenge.
- ``GET /health``: ``ok``, without credentials.
"""

import base64
import binascii
import hmac
import os

REALM = "vault"


def _credentials(environ):
    """(user, password) from a Basic Authorization header, or None."""
    scheme, dummy, encoded = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def _authorized(environ):
    expected_user = os.environ.get("VAULT_USER", "")
    expected_password = os.environ.get("VAULT_PASSWORD", "")
    given = _credentials(environ)
    if not expected_user or not expected_password or given is None:
        return False
    # Compare both in full, in constant time, whatever the first comparison found.
    user_ok = hmac.compare_digest(given[0].encode("utf-8"), expected_user.encode("utf-8"))
    password_ok = hmac.compare_digest(given[1].encode("utf-8"), expected_password.encode("utf-8"))
    return user_ok and password_ok


def _respond(start_response, status, body, extra_headers=()):
    data = body.encode("utf-8")
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    start_response(status, headers + list(extra_headers))
    return [data]


def application(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    if path == "/health":
        return _respond(start_response, "200 OK", "ok")
    if path != "/":
        return _respond(start_response, "404 Not Found", "not found\n")
    if not _authorized(environ):
        return _respond(
            start_response,
            "401 Unauthorized",
            "credentials required\n",
            [("WWW-Authenticate", 'Basic realm="%s"' % REALM)],
        )
    return _respond(start_response, "200 OK", "secret\n")
