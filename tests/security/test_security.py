"""Security probes against a host converged by molecule/app (the Flask example as hello.test,
with secret_env), from its verify step (molecule/app lists this directory in
additional_files_or_dirs). Every request is made inside the container."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest
from apptest import daemon_processes, http

ROOT = "/srv/modwsgi"
SITE = "hello.test"
SECRET = "molecule-secret-value"
LOG_DIR = pathlib.Path(os.environ.get("MODWSGI_LOG_DIR", str(pathlib.Path(__file__).resolve().parents[2] / ".cache" / "logs")))


def apache_worker_users(host):
    """Users of the Apache processes that are neither root nor mod_wsgi daemons: the Apache user."""
    out = host.check_output("ps -C apache2 -o user:32=,args=")
    users = set()
    for line in out.splitlines():
        user, args = line.split(None, 1)
        if user != "root" and not args.startswith("(wsgi:"):
            users.add(user)
    return users


def test_daemon_processes_run_neither_as_root_nor_as_the_apache_user(host):
    apache_users = apache_worker_users(host)
    assert apache_users, "no Apache worker processes"
    apache_uids = {host.user(user).uid for user in apache_users}
    procs = daemon_processes(host, "hello")
    assert procs, "no (wsgi:hello) daemon processes"
    for user, pid in procs:
        uid = int(host.file("/proc/%d/status" % pid).content_string.split("Uid:")[1].split()[0])
        assert uid != 0, (pid, user)
        assert uid not in apache_uids, (pid, user, apache_users)


@pytest.mark.parametrize(
    "path",
    [
        "/hello.wsgi",
        "/wsgi/hello.wsgi",
        "/srv/modwsgi/hello/wsgi/hello.wsgi",
        "/hello/__init__.py",
        "/hello.py",
        "/static/../__init__.py",
        "/venv/bin/python",
        "/venv/pyvenv.cfg",
        "/current/venv/pyvenv.cfg",
        "/env.json",
        "/secret_env.json",
        "/.env",
    ],
)
def test_code_venv_and_env_files_answer_404(host, path):
    assert http(host, path, SITE)["status"] == 404


def test_paths_above_the_document_root_are_refused(host):
    assert http(host, "/static/../../requirements.txt", SITE)["status"] == 400


def test_no_directory_listings(host):
    resp = http(host, "/static/", SITE)
    assert resp["status"] in (403, 404), resp["status"]
    assert "Index of" not in resp["body"]


def test_server_header_carries_no_version(host):
    headers = http(host, "/", SITE)["headers"]
    assert headers["Server"] == "Apache"
    assert "X-Powered-By" not in headers


def test_trace_is_refused(host):
    assert http(host, "/", SITE, method="TRACE")["status"] == 405


def test_secret_env_file_is_private(host):
    f = host.file(ROOT + "/hello/secret_env.json")
    assert f.mode == 0o640
    assert f.user == "root"
    assert f.group == "wsgi-hello"
    assert SECRET in f.content_string


def test_no_world_readable_file_holds_a_secret_env_value(host):
    # Every file on the container's root file system that holds the value.
    out = host.run("find / -xdev -type f -size -4M -print0 | xargs -0 grep -lF -- %s", SECRET)
    holders = out.stdout.split()
    assert ROOT + "/hello/secret_env.json" in holders, (holders, out.stderr)  # the search works
    readable = [path for path in holders if host.file(path).mode & 0o004]
    assert readable == []


@pytest.mark.parametrize("log", ["converge", "check"])
def test_secret_env_values_never_appear_in_verbose_output(log):
    # tests/scripts/run-scenario.sh runs the first converge with -v --diff and the
    # check run with --check --diff, and keeps both logs.
    path = LOG_DIR.resolve() / ("app-%s.log" % log)
    assert path.exists(), "%s is missing: run the scenario with tests/scripts/run-scenario.sh app" % path
    text = path.read_text()
    assert "wsgi_files.yml" in text or "Write the app's" in text, "the log does not cover the app role"
    assert SECRET not in text


def test_secret_env_values_never_appear_in_a_vvv_run_or_its_json_results():
    # A re-run of the converge playbook at -vvv with the JSON callback, which keeps every loop
    # item whole (whatever its label), and prints skipped ones too: nothing changes, so most
    # items are skipped.
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    scenario = os.environ.get("MOLECULE_SCENARIO_DIRECTORY")
    if not ephemeral or not scenario:
        pytest.fail("run from Molecule's verify step (MOLECULE_EPHEMERAL_DIRECTORY is not set)")
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="false",
               ANSIBLE_CONFIG=ephemeral + "/ansible.cfg")
    run = subprocess.run(
        [shutil.which("ansible-playbook") or "ansible-playbook", "-vvv", "-i", ephemeral + "/inventory", "-l", "debian13",
         scenario + "/converge.yml"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    # The callback's document starts with a line "{"; -vvv's own lines come before it.
    start = run.stdout.index("\n{\n") + 1
    results = json.loads(run.stdout[start:run.stdout.rindex("\n}") + 2])
    skipped_items = [result for play in results["plays"] for task in play["tasks"]
                     for result in task["hosts"].values() if result.get("skipped") or any(
                         item.get("skipped") for item in result.get("results") or [])]
    assert skipped_items, "the run skipped nothing: it does not exercise the skipped-item output"
    assert SECRET not in run.stdout


# --- The code is read-only to the app; its data is its own; other apps see neither ---------------


def test_the_app_user_cannot_write_the_live_code(host):
    release = host.file(ROOT + "/hello/current").linked_to
    assert host.file(release).user == "root"
    assert host.file(release).group == "wsgi-hello"
    for path in (release + "/src/hello/__init__.py", release + "/src/modwsgi-probe"):
        assert host.run("runuser -u wsgi-hello -- touch %s", path).rc != 0, path


def test_the_app_user_cannot_write_the_venv(host):
    venv = ROOT + "/hello/current/venv"
    assert host.run("runuser -u wsgi-hello -- touch %s/modwsgi-probe", venv).rc != 0
    site = host.check_output("runuser -u wsgi-hello -- %s/bin/python -c %s", venv,
                             "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    assert host.run("runuser -u wsgi-hello -- touch %s/modwsgi-probe.py", site).rc != 0


def test_the_app_user_writes_its_data(host):
    probe = ROOT + "/hello/data/modwsgi-probe"
    assert host.run("runuser -u wsgi-hello -- touch %s", probe).rc == 0
    host.run("rm -f %s", probe)


@pytest.mark.parametrize("path", ["secret_env.json", "env.json", "config", "current/src/hello/__init__.py"])
def test_another_apps_user_cannot_read_the_apps_secrets_config_or_code(host, path):
    assert host.run("runuser -u wsgi-wsgiinfo -- cat %s/hello/%s", ROOT, path).rc != 0
    assert host.run("runuser -u wsgi-wsgiinfo -- ls %s/hello/%s", ROOT, path).rc != 0 or path.endswith((".json", ".py"))


def test_apache_still_reads_the_static_files(host):
    assert http(host, "/static/style.css", SITE)["status"] == 200
