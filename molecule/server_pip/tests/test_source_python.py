"""A host with a Python built from source into /usr/local (molecule/server_pip, debian12-cpython).

The seeds' "All About Mod Wsgi" case: CPython configured with --enable-shared beside
the system Python. mod_wsgi must be built for that Python and find its libpython, and
the app must run on it.
"""

import json

testinfra_hosts = ["ansible://source_python"]

SOURCE_PYTHON = "/usr/local/bin/python3.13"


def pip_build(host):
    return host.ansible("modwsgi.deploy.mod_wsgi_info", check=False)["mod_wsgi"]


def test_the_system_python_is_another_version(host):
    assert host.check_output("/usr/bin/python3 -c 'import sys; print(sys.version_info[:2])'") == "(3, 11)"


def test_mod_wsgi_is_built_for_the_source_python(host):
    wsgi = pip_build(host)
    assert wsgi["python_version"] == "3.13"
    venv_home = host.file(wsgi["path"].split("/lib/python")[0] + "/pyvenv.cfg").content_string
    assert "home = /usr/local/bin" in venv_home


def test_mod_wsgi_links_the_source_pythons_shared_library(host):
    # The seeds' failure: "libpython3.X.so.1.0 => not found" when Apache loads the module.
    ldd = host.check_output("ldd %s", pip_build(host)["path"])
    line = next(line for line in ldd.splitlines() if "libpython" in line)
    assert "=> /usr/local/lib/libpython3.13.so.1.0" in line, ldd


def test_the_app_answers_from_the_source_python(host):
    probe = (
        "import http.client, json\n"
        "conn = http.client.HTTPConnection('127.0.0.1', 80, timeout=10)\n"
        "conn.request('GET', '/', headers={'Host': 'hello.test'})\n"
        "resp = conn.getresponse()\n"
        "print(json.dumps({'status': resp.status, 'body': resp.read().decode()}))\n"
    )
    response = json.loads(host.check_output("/usr/bin/python3 -c %s", probe))
    assert response["status"] == 200
    body = json.loads(response["body"])
    assert body["python"] == "3.13"
    assert body["user"] == "wsgi-hello"


def test_the_apps_virtualenv_is_made_from_the_source_python(host):
    venv_cfg = host.run("cat /srv/modwsgi/hello/current/venv/pyvenv.cfg")
    assert venv_cfg.rc == 0, venv_cfg.stderr
    assert "home = /usr/local/bin" in venv_cfg.stdout
