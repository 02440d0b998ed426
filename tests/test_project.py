"""The project's own files agree with each other."""

import tomllib
import yaml


def test_environment_yml_mirrors_pyproject(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert wanted <= set(pip), sorted(wanted - set(pip))


def test_ci_runs_the_readme_test_command(repo):
    assert "make test" in (repo / ".ci" / "run").read_text()
    assert "make test" in (repo / "README.md").read_text()
