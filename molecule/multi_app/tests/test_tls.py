"""The app over HTTPS: HTTP redirects, HTTPS answers from the one daemon group."""

from apptest import daemon_processes, http, http_json

CONF = "/etc/apache2/sites-available/modwsgi-tls.test-80.conf"


def test_http_redirects_to_https(host):
    resp = http(host, "/health?x=1", "tls.test")
    assert resp["status"] == 301
    assert resp["headers"]["Location"] == "https://tls.test/health?x=1"


def test_https_answers(host):
    body = http_json(host, "/", "tls.test", port=443, scheme="https")
    assert body["app"] == "flask-example"
    assert body["user"] == "wsgi-secure"
    resp = http(host, "/static/style.css", "tls.test", port=443, scheme="https")
    assert resp["status"] == 200


def test_only_tls_1_2_and_newer(host):
    assert http(host, "/health", "tls.test", port=443, scheme="https")["tls"] in ("TLSv1.2", "TLSv1.3")
    # A client that offers only TLS 1.1 is refused.
    old = host.run(
        "python3 -c %s",
        "import socket, ssl\n"
        "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
        "ctx.check_hostname = False\n"
        "ctx.verify_mode = ssl.CERT_NONE\n"
        "ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1\n"
        "ctx.set_ciphers('ALL:@SECLEVEL=0')\n"
        "ctx.wrap_socket(socket.create_connection(('127.0.0.1', 443)), server_hostname='tls.test')\n",
    )
    assert old.rc != 0
    assert "SSL" in old.stderr or "ssl" in old.stderr


def test_daemon_group_is_defined_once_and_used_by_the_tls_vhost(host):
    conf = host.file(CONF).content_string
    assert conf.count("WSGIDaemonProcess secure ") == 1
    assert conf.count("<VirtualHost *:443>") == 1
    tls_vhost = conf.split("<VirtualHost *:443>")[1]
    assert "process-group=secure" in tls_vhost
    assert "SSLProtocol -all +TLSv1.2 +TLSv1.3" in tls_vhost
    # One set of daemon processes serves both virtual hosts.
    assert len(daemon_processes(host, "secure")) >= 2
    assert {p[0] for p in daemon_processes(host, "secure")} == {"wsgi-secure"}
