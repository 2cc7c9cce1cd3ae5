"""Faults against a host converged by molecule/zero_downtime (the Flask example as zero.test,
wrk installed), from its verify step (molecule/zero_downtime lists this file in
additional_files_or_dirs). Failed deploys (pip, pre_switch, extra_directives)
are in molecule/rollback's side effect."""

import os
import pathlib
import re
import subprocess
import time

from apptest import daemon_processes, http, http_json

SITE = "zero.test"
LOG_DIR = pathlib.Path(os.environ.get("MODWSGI_LOG_DIR", str(pathlib.Path(__file__).resolve().parents[2] / ".cache" / "logs")))
# wrk's load while the daemons are killed: connections, and the seconds it runs.
CONNECTIONS = 8
DURATION = 10


def wrk_counts(report):
    """Requests, non-2xx responses and socket errors from wrk's report."""
    requests = int(re.search(r"(\d+) requests in", report).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    return {
        "requests": requests,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
    }


def write_report(name, text):
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / name).write_text(text)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def test_killed_daemon_processes_respawn_and_the_errors_stay_bounded(host):
    before = daemon_processes(host, "zero")
    assert before
    host.run("rm -f /root/wrk-kill.txt; systemctl reset-failed wrk-kill 2>/dev/null")
    # A transient unit, so wrk outlives this exec session.
    host.check_output(
        "systemd-run --unit wrk-kill sh -c %s",
        "wrk -t2 -c%d -d%ds --timeout 5s -H 'Host: %s' http://127.0.0.1/ > /root/wrk-kill.txt 2>&1"
        % (CONNECTIONS, DURATION, SITE),
    )
    time.sleep(3)
    host.check_output("kill -9 " + " ".join(str(int(proc[1])) for proc in before))
    wait_for(lambda: "requests in" in host.run("cat /root/wrk-kill.txt").stdout, DURATION + 20, "wrk's report")
    report = host.check_output("cat /root/wrk-kill.txt")
    counts = wrk_counts(report)
    errors = counts["non_2xx"] + counts["socket_errors"]
    write_report(
        "faults-daemon-kill.txt",
        "kill -9 of %d daemon processes under wrk -c%d for %ds: %d requests, %d non-2xx, %d socket errors\n\n%s"
        % (len(before), CONNECTIONS, DURATION, counts["requests"], counts["non_2xx"], counts["socket_errors"], report),
    )
    # Only requests in flight in the killed processes may fail: at most one per connection.
    assert errors <= CONNECTIONS, report
    assert counts["requests"] > 100, report
    wait_for(lambda: len(daemon_processes(host, "zero")) == len(before), 30, "the daemon processes to respawn")
    after = daemon_processes(host, "zero")
    assert not {proc[1] for proc in before} & {proc[1] for proc in after}
    assert http_json(host, "/", SITE)["app"] == "flask-example"


def test_apache_and_the_app_come_back_after_a_container_restart(host):
    release = http_json(host, "/", SITE)["release"]
    container = host.ansible.get_variables().get("ansible_host") or host.backend.host
    subprocess.run(["docker", "restart", "--time", "20", container], check=True, capture_output=True, timeout=120)

    def booted():
        state = subprocess.run(
            ["docker", "exec", container, "systemctl", "is-system-running"], capture_output=True, text=True, check=False
        ).stdout.strip()
        return state in ("running", "degraded")

    wait_for(booted, 60, "systemd in the restarted container")
    wait_for(lambda: http(host, "/health", SITE)["status"] == 200, 60, "the app to answer")
    assert host.service("apache2").is_running
    assert http_json(host, "/", SITE)["release"] == release
    assert daemon_processes(host, "zero")
