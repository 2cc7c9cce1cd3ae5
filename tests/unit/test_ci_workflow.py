"""The GitHub Actions workflow runs every Molecule scenario and the Makefile's other test targets."""

import ast
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
        python = "${{ matrix.python }}" if name in ("versions", "sanity-docker") else "3.11"
        assert setup and setup[0]["with"]["python-version"] == python, name


def noxfile_versions():
    """noxfile.py's VERSIONS: ansible-core minor -> the Python its session runs on."""
    match = re.search(r"^VERSIONS = (\{.*\})$", (ROOT / "noxfile.py").read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "no VERSIONS in noxfile.py"
    return ast.literal_eval(match.group(1))


def makefile_versions():
    match = re.search(r"^VERSIONS\s*:=\s*(.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "no VERSIONS in the Makefile"
    return match.group(1).split()


def dev_core_minor():
    match = re.search(r"^ansible-core==(\d+\.\d+)\.", (ROOT / "requirements-dev.txt").read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1)


def test_every_supported_ansible_core_is_tested():
    """meta/runtime.yml admits exactly the versions tested: .venv's, `make versions`' and the workflow's."""
    versions = noxfile_versions()
    requires = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))["requires_ansible"]
    lowest, newest = min(versions, key=lambda v: tuple(map(int, v.split(".")))), max(versions, key=lambda v: tuple(map(int, v.split("."))))
    upper = "%s.%d" % (newest.split(".")[0], int(newest.split(".")[1]) + 1)
    assert requires == ">=%s.0,<%s" % (lowest, upper), requires
    # Each minor's session is pinned, the .venv one as in requirements-dev.txt.
    for minor in versions:
        pins = (ROOT / "tests" / "versions" / ("ansible-core-%s.txt" % minor)).read_text(encoding="utf-8")
        assert re.search(r"^ansible-core==%s\.\d+$" % re.escape(minor), pins, re.MULTILINE), minor
    dev = re.search(r"^ansible-core==(.*)$", (ROOT / "requirements-dev.txt").read_text(encoding="utf-8"), re.MULTILINE).group(1)
    assert "ansible-core==%s\n" % dev in (ROOT / "tests" / "versions" / ("ansible-core-%s.txt" % dev_core_minor())).read_text(encoding="utf-8")
    # make versions: every other minor that runs on .venv's Python.
    local = sorted(minor for minor, python in versions.items() if python == versions[dev_core_minor()] and minor != dev_core_minor())
    assert makefile_versions() == local


def test_versions_job_covers_every_other_ansible_core():
    jobs = workflow()["jobs"]
    versions = noxfile_versions()
    matrix = jobs["versions"]["strategy"]["matrix"]["include"]
    expected = [{"ansible-core": minor, "python": python} for minor, python in versions.items() if minor != dev_core_minor()]
    assert sorted(matrix, key=str) == sorted(expected, key=str)
    assert job_commands(jobs["versions"]) == ["make versions VERSIONS=${{ matrix.ansible-core }}"]
    # The weekly ansible-test sanity --docker, on every version.
    docker = jobs["sanity-docker"]
    assert workflow_triggers()["schedule"][0]["cron"]
    assert "schedule" in docker["if"]
    assert sorted(docker["strategy"]["matrix"]["include"], key=str) == sorted(
        [{"ansible-core": minor, "python": python} for minor, python in versions.items()], key=str)
    assert any(command.startswith("ansible-test sanity --docker") for command in job_commands(docker))


def workflow_triggers():
    data = workflow()
    return data.get("on", data.get(True))  # PyYAML reads the key `on` as True
