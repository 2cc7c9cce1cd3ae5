"""Bad input and unsupported systems stop the server role before it changes anything.

Each case runs the installed role (ANSIBLE_COLLECTIONS_PATH) in check mode against
the controller and expects a failure whose message names the variable and what
would be valid. A task that could change the host never starts: the run must end
inside argument validation or the preflight task file.
"""

import pytest

CASES = {
    "unsupported-os": (
        {"fake_os_family": "Gentoo", "fake_distribution": "Gentoo"},
        ["Gentoo", "Supported families: Debian, RedHat, Suse, FreeBSD, pkgsrc"],
    ),
    # The packaged mod_wsgi of these releases is built for Python 3.6 (vars/overlay/).
    "el8-package": (
        {"fake_os_family": "RedHat", "fake_distribution": "Rocky", "fake_major_version": "8"},
        ["modwsgi_install_method", "Python 3.6", "pip", "modwsgi_python", "python3.11-mod_wsgi"],
    ),
    "leap15-package": (
        {"fake_os_family": "Suse", "fake_distribution": "openSUSE Leap", "fake_major_version": "15"},
        ["modwsgi_install_method", "Python 3.6", "pip", "python311"],
    ),
    "fedora44-worker": (
        {"fake_os_family": "RedHat", "fake_distribution": "Fedora", "fake_major_version": "44", "modwsgi_mpm": "worker"},
        ["modwsgi_mpm", "worker", "Fedora 44", "event, prefork"],
    ),
    "install-method": ({"modwsgi_install_method": "conda"}, ["modwsgi_install_method", "package, pip"]),
    "mpm": ({"modwsgi_mpm": "threaded"}, ["modwsgi_mpm", "event, worker, prefork"]),
    "log-level": ({"modwsgi_log_level": "loud"}, ["modwsgi_log_level", "warn"]),
    "hardening-type": ({"modwsgi_hardening": "perhaps"}, ["modwsgi_hardening", "bool"]),
    "service-state": ({"modwsgi_service_state": "reloaded"}, ["modwsgi_service_state", "started, stopped"]),
    "booleans-type": ({"modwsgi_selinux_booleans": ["httpd_can_network_connect"]}, ["modwsgi_selinux_booleans", "dict"]),
    "booleans-value": (
        {"modwsgi_selinux_booleans": {"httpd_can_network_connect": "maybe"}},
        ["modwsgi_selinux_booleans", "true or false"],
    ),
    "relative-python": (
        {"modwsgi_install_method": "pip", "modwsgi_python": "python3"},
        ["modwsgi_python", "absolute path"],
    ),
    "missing-python": (
        {"modwsgi_install_method": "pip", "modwsgi_python": "/nonexistent/bin/python3.99"},
        ["modwsgi_python", "/nonexistent/bin/python3.99", "not an executable file"],
    ),
    "pip-spec": ({"modwsgi_install_method": "pip", "modwsgi_pip_spec": "flask"}, ["modwsgi_pip_spec", "mod_wsgi==6.1.1"]),
    "venv-root": ({"modwsgi_pip_venv_root": "opt/modwsgi"}, ["modwsgi_pip_venv_root", "absolute path"]),
    "socket-prefix": ({"modwsgi_socket_prefix": "run/wsgi"}, ["modwsgi_socket_prefix", "absolute path"]),
}

# Tasks that may run before the failure: argument validation and preflight.yml only.
ALLOWED_TASKS = {
    "Gathering Facts",
    "Pretend to be another operating system",
    "Validating arguments against arg spec main - Install Apache httpd with mod_wsgi, ready for WSGI apps.",
}


def run_role(run_playbook, extra_vars, only_always=False):
    # No such tag: only argument validation and preflight (tagged always) run.
    return run_playbook("preflight.yml", extra_vars, ["--tags", "modwsgi_preflight_only"] if only_always else [])


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_before_any_change(run_playbook, case):
    extra_vars, expected = CASES[case]
    run = run_role(run_playbook, extra_vars)
    assert run.proc.returncode != 0, "the run did not fail"
    failures = run.failures()
    assert len(failures) == 1, failures
    failed_task, result = failures[0]
    assert failed_task["path"].rsplit("/", 1)[-1].startswith(("preflight.yml", "main.yml")), failed_task
    # A failed loop reports each item's message in its results.
    message = "\n".join([result.get("msg", "")] + [item.get("msg", "") for item in result.get("results", []) if item.get("failed")])
    for fragment in expected:
        assert fragment in message, message
    ran = run.ran()
    role_tasks = [name for name in ran if name not in ALLOWED_TASKS]
    for name in role_tasks:
        assert name.startswith("modwsgi.deploy.server : ") or name in ALLOWED_TASKS, name
    assert run.changed() == []


def test_a_python_too_old_for_the_pip_method_fails(run_playbook, tmp_path):
    """modwsgi_python on EL 8 or SUSE 15 left at the system Python 3.6 (stood in by a script saying 3.6)."""
    python = tmp_path / "python3"
    python.write_text("#!/bin/sh\necho 3.6\n")
    python.chmod(0o755)
    run = run_role(run_playbook, {"modwsgi_install_method": "pip", "modwsgi_python": str(python)})
    assert run.proc.returncode != 0
    (failed_task, result), = run.failures()
    assert failed_task["name"].endswith("Fail when that Python is too old to host apps"), failed_task
    for fragment in ("modwsgi_python", "Python 3.6", "3.8", "python3.11"):
        assert fragment in result["msg"], result["msg"]
    assert run.changed() == []


def test_el8_with_another_mod_wsgi_passes(run_playbook):
    """EL 8's python3.11-mod_wsgi is built for 3.11: the Python 3.6 refusal does not apply."""
    run = run_role(run_playbook, {"fake_os_family": "RedHat", "fake_distribution": "Rocky", "fake_major_version": "8",
                                  "modwsgi_package_name": "python3.11-mod_wsgi"}, only_always=True)
    assert run.proc.returncode == 0, run.proc.stdout[-2000:]
    assert "modwsgi.deploy.server : Fail when the packaged mod_wsgi is built for a Python too old to host apps" in run.ran()


def test_preflight_passes_good_input(run_playbook):
    """The control case: valid input passes argument validation and every preflight check."""
    run = run_role(run_playbook, {"modwsgi_install_method": "package", "modwsgi_mpm": "event"}, only_always=True)
    assert run.proc.returncode == 0, run.proc.stdout[-2000:]
    ran = run.ran()
    assert "modwsgi.deploy.server : Fail on an unsupported OS family" in ran, ran
    assert "modwsgi.deploy.server : Check path variables" in ran, ran
