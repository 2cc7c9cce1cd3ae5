"""Behaviour of a host converged with modwsgi.deploy.server (Debian family)."""

import json

import pytest

# The Python X.Y each Debian release's libapache2-mod-wsgi-py3 is built for.
DISTRO_PYTHON = {"12": "3.11", "13": "3.13"}
PIP_VENV_ROOT = "/opt/modwsgi"

HTTP_PROBE = (
    "import http.client, json, sys\n"
    "conn = http.client.HTTPConnection('127.0.0.1', 80, timeout=10)\n"
    "conn.request(sys.argv[1], sys.argv[2])\n"
    "resp = conn.getresponse()\n"
    "print(json.dumps({'status': resp.status, 'headers': dict(resp.getheaders()),\n"
    "                  'body': resp.read().decode('utf-8', 'replace')}))\n"
)


def http(host, method="GET", path="/"):
    """One HTTP request made inside the container, so traffic stays on it."""
    return json.loads(host.check_output("python3 -c %s %s %s", HTTP_PROBE, method, path))


def role_var(host, name, default):
    return host.ansible.get_variables().get(name, default)


def install_method(host):
    return role_var(host, "modwsgi_install_method", "package")


def debian_major(host):
    return host.system_info.release.split(".")[0]


def mod_wsgi_info(host):
    return host.ansible("modwsgi.deploy.mod_wsgi_info", check=False)


@pytest.fixture(name="apache_pid")
def fixture_apache_pid(host):
    return host.file("/run/apache2/apache2.pid").content_string.strip()


def test_service_is_running_and_enabled(host):
    service = host.service("apache2")
    assert service.is_running
    assert service.is_enabled


def test_config_is_valid(host):
    result = host.run("apache2ctl -t")
    assert result.rc == 0, result.stderr


def test_wsgi_module_is_loaded(host):
    assert "wsgi_module (shared)" in host.check_output("apache2ctl -M")


def test_running_apache_maps_the_expected_build(host, apache_pid):
    maps = host.file("/proc/%s/maps" % apache_pid).content_string
    mapped = {line.split()[-1] for line in maps.splitlines() if "mod_wsgi" in line}
    assert len(mapped) == 1, mapped
    path = mapped.pop()
    if install_method(host) == "pip":
        assert path.startswith(PIP_VENV_ROOT + "/py"), path
        assert "/site-packages/mod_wsgi/server/mod_wsgi-py" in path
        assert not host.package("libapache2-mod-wsgi-py3").is_installed
        assert not host.file("/etc/apache2/mods-enabled/wsgi.load").exists
    else:
        assert path == "/usr/lib/apache2/modules/mod_wsgi.so-" + DISTRO_PYTHON[debian_major(host)]


def test_mod_wsgi_info_reports_the_python_it_was_built_for(host):
    info = mod_wsgi_info(host)
    assert info["changed"] is False
    wsgi = info["mod_wsgi"]
    assert wsgi["loaded"] is True
    if install_method(host) == "pip":
        venv_python = host.check_output(
            "%s/py*/bin/python -c 'import sys; print(\"%%d.%%d\" %% sys.version_info[:2])'", PIP_VENV_ROOT
        )
        assert wsgi["python_version"] == venv_python
        assert wsgi["path"].startswith(PIP_VENV_ROOT)
        assert int(wsgi["version"].split(".")[0]) >= 5
    else:
        assert wsgi["python_version"] == DISTRO_PYTHON[debian_major(host)]
        assert wsgi["python_version_source"] == "debian_symlink"
    assert info["apache"]["mpm"] == role_var(host, "modwsgi_mpm", "event")
    assert info["apache"]["version"].startswith("2.4.")


def test_only_the_chosen_mpm_is_enabled(host):
    mpm = role_var(host, "modwsgi_mpm", "event")
    enabled = host.check_output("ls /etc/apache2/mods-enabled").split()
    assert sorted(name for name in enabled if name.startswith("mpm_")) == ["mpm_%s.conf" % mpm, "mpm_%s.load" % mpm]


def test_server_header_carries_no_version(host):
    response = http(host)
    assert response["headers"]["Server"] == "Apache"


def test_error_pages_carry_no_signature(host):
    response = http(host, path="/no-such-page")
    assert response["status"] == 404
    assert "Server at" not in response["body"]
    assert "Apache/" not in response["body"]


def test_trace_is_refused(host):
    assert http(host, method="TRACE")["status"] == 405


def test_server_wide_wsgi_settings_are_live(host):
    conf = host.file("/etc/apache2/conf-enabled/zz-modwsgi.conf")
    assert conf.is_symlink
    content = conf.content_string
    assert "WSGIRestrictEmbedded On" in content
    # Both Debian releases ship mod_wsgi >= 4.6.0, which knows WSGISocketRotation.
    assert "WSGISocketRotation Off" in content
