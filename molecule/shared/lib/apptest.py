"""Helpers for the app scenarios' testinfra tests: HTTP requests made inside the container."""

import json

HTTP_PROBE = (
    "import http.client, json, ssl, sys\n"
    "method, port, path, host, scheme = sys.argv[1:6]\n"
    "if scheme == 'https':\n"
    "    ctx = ssl.create_default_context()\n"
    "    ctx.check_hostname = False\n"
    "    ctx.verify_mode = ssl.CERT_NONE\n"
    "    conn = http.client.HTTPSConnection('127.0.0.1', int(port), timeout=20, context=ctx)\n"
    "else:\n"
    "    conn = http.client.HTTPConnection('127.0.0.1', int(port), timeout=20)\n"
    "conn.request(method, path, headers={'Host': host})\n"
    "resp = conn.getresponse()\n"
    "body = resp.read()\n"
    "version = conn.sock.version() if scheme == 'https' else None\n"
    "print(json.dumps({'status': resp.status, 'headers': dict(resp.getheaders()),\n"
    "                  'body': body.decode('utf-8', 'replace'), 'tls': version}))\n"
)


def http(host, path="/", server_name="localhost", port=80, method="GET", scheme="http"):
    """One request to the container's Apache with a Host header; returns status, headers, body."""
    out = host.check_output("python3 -c %s %s %s %s %s %s", HTTP_PROBE, method, str(port), path, server_name, scheme)
    return json.loads(out)


def http_json(host, path="/", server_name="localhost", **kwargs):
    resp = http(host, path, server_name, **kwargs)
    assert resp["status"] == 200, resp
    return json.loads(resp["body"])


def daemon_processes(host, name):
    """(user, pid) of every process titled (wsgi:<name>)."""
    out = host.check_output("ps -eo user:32=,pid=,args=")
    found = []
    for line in out.splitlines():
        user, pid, args = line.split(None, 2)
        if args.startswith("(wsgi:%s)" % name):
            found.append((user, int(pid)))
    return found


def distro_python(host):
    return {"12": "3.11", "13": "3.13"}[host.system_info.release.split(".")[0]]
