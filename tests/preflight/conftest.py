"""Running a preflight playbook in check mode against the controller and reading its JSON report."""

import json
import os
import pathlib
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent


class PlaybookRun:
    """One `ansible-playbook --check` run with the json callback: its process and its per-task results."""

    def __init__(self, playbook, extra_vars, args=()):
        # ansible.builtin.json is a redirect to ansible.posix.json: name the plugin itself.
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LIBRARY=str(HERE / "library"))
        self.proc = subprocess.run(
            ["ansible-playbook", "--check", "-e", json.dumps(extra_vars), str(HERE / playbook), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.report = self.parse_report(self.proc)

    @staticmethod
    def parse_report(proc):
        """The json callback's report: the JSON document of stdout. Anything another ansible-core or callback
        version prints around it (a warning or deprecation sent to stdout) is left aside, the report itself is
        read whole; a run without one (the callback not found, ansible-playbook failing early) fails the test
        with what ansible-playbook printed."""
        text = proc.stdout
        decoder = json.JSONDecoder()
        starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n" and text.startswith("{", index + 1)]
        for start in starts:
            try:
                report, _end = decoder.raw_decode(text, start)
            except ValueError:
                continue
            if isinstance(report, dict) and "plays" in report and "stats" in report:
                return report
        pytest.fail("ansible-playbook (rc %s) printed no json callback report\nstdout:\n%s\nstderr:\n%s"
                    % (proc.returncode, text[-3000:], proc.stderr[-3000:]))

    def task_results(self):
        """(task, result on localhost) for every task in the report."""
        for play in self.report["plays"]:
            for task in play["tasks"]:
                yield task["task"], task["hosts"].get("localhost", {})

    def ran(self):
        return [task["name"] for task, result in self.task_results() if result]

    def failures(self):
        return [(task, result) for task, result in self.task_results() if result.get("failed")]

    def changed(self):
        return [task["name"] for task, result in self.task_results() if result.get("changed")]


@pytest.fixture
def run_playbook():
    return PlaybookRun
