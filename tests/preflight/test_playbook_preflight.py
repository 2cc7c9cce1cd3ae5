"""Bad batch settings stop the playbooks on the controller before any host is touched."""

import pathlib

import pytest

PLAYBOOKS = pathlib.Path(__file__).resolve().parents[2] / "playbooks"
LOCAL = ["-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter={{ ansible_playbook_python }}"]

CASES = {
    "serial-zero": ({"modwsgi_serial": 0}, "modwsgi_serial"),
    "serial-negative": ({"modwsgi_serial": -1}, "modwsgi_serial"),
    "serial-percent-over": ({"modwsgi_serial": "150%"}, "modwsgi_serial"),
    "serial-word": ({"modwsgi_serial": "half"}, "modwsgi_serial"),
    "serial-bool": ({"modwsgi_serial": True}, "modwsgi_serial"),
    "serial-empty-list": ({"modwsgi_serial": []}, "modwsgi_serial"),
    "serial-list-item": ({"modwsgi_serial": [1, "0%"]}, "modwsgi_serial"),
    "max-fail-over": ({"modwsgi_max_fail_percentage": 101}, "modwsgi_max_fail_percentage"),
    "max-fail-negative": ({"modwsgi_max_fail_percentage": -5}, "modwsgi_max_fail_percentage"),
    "hosts-empty": ({"modwsgi_hosts": " "}, "modwsgi_hosts"),
    "hosts-list": ({"modwsgi_hosts": ["web1", "web2"]}, "modwsgi_hosts"),
    "drain-missing": ({"modwsgi_drain_tasks": "/nonexistent/drain.yml"}, "modwsgi_drain_tasks"),
    "undrain-type": ({"modwsgi_undrain_tasks": 5}, "modwsgi_undrain_tasks"),
}


# Every case on deploy.yml; site.yml and rollback.yml run the same check files, so
# one case of each file proves they are wired in.
RUNS = [("deploy.yml", case) for case in sorted(CASES)] + [
    (playbook, case) for playbook in ("site.yml", "rollback.yml") for case in ("serial-zero", "drain-missing")
]


@pytest.mark.parametrize(("playbook", "case"), RUNS)
def test_bad_batch_setting_stops_before_any_host_changes(run_playbook, playbook, case):
    extra_vars, variable = CASES[case]
    run = run_playbook(PLAYBOOKS / playbook, dict(extra_vars, modwsgi_hosts=extra_vars.get("modwsgi_hosts", "localhost")), LOCAL)
    assert run.proc.returncode != 0
    failures = run.failures()
    assert failures, run.proc.stdout[-2000:]
    messages = " ".join(
        str(item.get("msg", "")) for _task, result in failures for item in [result, *result.get("results", [])]
    )
    assert variable in messages
    assert "must be" in messages
    # Only the checks ran: nothing from the roles.
    assert not [name for name in run.ran() if not name.startswith("Check ") and name != "Gathering Facts"], run.ran()
    assert not run.changed()


@pytest.mark.parametrize("serial", [1, "2", "25%", "100%", [1, "50%", "100%"]])
def test_good_batch_settings_pass_the_checks(run_playbook, serial):
    run = run_playbook(
        PLAYBOOKS / "deploy.yml",
        {"modwsgi_hosts": "localhost", "modwsgi_serial": serial, "modwsgi_max_fail_percentage": 0},
        LOCAL,
    )
    checks = ["Check modwsgi_hosts", "Check modwsgi_serial", "Check modwsgi_max_fail_percentage", "Check the drain and undrain task files"]
    assert set(checks) <= set(run.ran()), run.ran()
    assert not [task["name"] for task, _result in run.failures() if task["name"] in checks]
