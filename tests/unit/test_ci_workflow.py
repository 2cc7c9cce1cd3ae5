"""The GitHub Actions workflow runs every Molecule scenario and the Makefile's other test targets."""

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def workflow():
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def makefile_scenarios():
    match = re.search(r"^SCENARIOS\s*:=\s*(.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "no SCENARIOS in the Makefile"
    return match.group(1).split()


def job_commands(job):
    return [step["run"] for step in job["steps"] if "run" in step]


def test_molecule_matrix_covers_every_scenario():
    matrix = workflow()["jobs"]["molecule"]["strategy"]["matrix"]["scenario"]
    assert len(matrix) == len(set(matrix))
    on_disk = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
    missing = sorted((set(makefile_scenarios()) | set(on_disk)) - set(matrix))
    assert not missing, "scenarios missing from the CI matrix: %s" % missing


def test_molecule_jobs_use_the_registry_platforms():
    job = workflow()["jobs"]["molecule"]
    assert job["env"]["MODWSGI_PLATFORMS"] == "registry"
    assert job["env"]["MODWSGI_IMAGE_SOURCE"] == "registry"
    assert job_commands(job) == ["make scenario-${{ matrix.scenario }}"]


def test_every_make_target_has_a_job():
    jobs = workflow()["jobs"]
    for name, command in (("lint", "make lint"), ("unit", "make unit"), ("sanity", "make sanity"), ("test", "make test")):
        assert command in job_commands(jobs[name]), name
    for name, job in jobs.items():
        assert job["runs-on"] == "ubuntu-latest", name
        uses = [step["uses"] for step in job["steps"] if "uses" in step]
        assert "actions/checkout@v4" in uses, name
        setup = [step for step in job["steps"] if step.get("uses") == "actions/setup-python@v5"]
        assert setup and setup[0]["with"]["python-version"] == "3.11", name
