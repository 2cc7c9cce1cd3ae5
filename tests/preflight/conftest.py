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
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LIBRARY=str(HERE / "library"))
        self.proc = subprocess.run(
            ["ansible-playbook", "--check", "-e", json.dumps(extra_vars), str(HERE / playbook), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.report = json.loads(self.proc.stdout)

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
