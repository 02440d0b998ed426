"""The README is a front door: short, the two commands first, its findings table from results/."""

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def _script(name: str):
    path = REPO / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


findings = _script("findings_table")


def test_the_readme_findings_table_is_the_one_the_script_writes():
    # a failure means results/claims changed: run `.venv/bin/python scripts/findings_table.py`
    assert findings.main(["--check"]) == 0


def test_the_table_has_a_row_per_claim_check_with_its_verdict():
    table = findings.findings_table(REPO / "results" / "claims")
    rows = table.splitlines()[2:]
    claims = findings.read_claims(REPO / "results" / "claims")
    assert len(rows) == len(claims)
    for row, (_, claim) in zip(rows, claims.iterrows(), strict=True):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert cells[0] == claim["claim"] and cells[-1] == claim["verdict"]


def test_check_fails_on_a_stale_table_and_the_rewrite_fixes_it(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README.read_text().replace("| holds |", "| reversed |", 1))
    claims = ["--readme", str(readme), "--claims-dir", str(REPO / "results" / "claims")]
    assert findings.main(["--check", *claims]) == 1
    assert findings.main(claims) == 0
    assert readme.read_text() == README.read_text()
    assert findings.main(["--check", *claims]) == 0


def test_a_cell_with_a_pipe_or_a_newline_stays_one_cell():
    assert findings._cell("a | b\nc") == "a \\| b c"


def test_missing_markers_are_an_error():
    with pytest.raises(ValueError, match="markers"):
        findings.with_table("# no table here\n", "| claim |")


def test_the_readme_is_short_and_gives_the_two_commands_first():
    lines = README.read_text().splitlines()
    assert len(lines) <= 150
    head = "\n".join(lines[:40])
    assert re.search(r"^make book\b", head, re.M) and re.search(r"^make test\b", head, re.M)
    assert "book/reproducing.html" in head  # what make book costs, where the times are


def test_the_readme_points_to_the_module_map_and_the_changelog_instead_of_copying_them():
    text = README.read_text()
    assert "explain_utils/__init__.py" in text and "CHANGELOG.md" in text
    assert "| module |" not in text  # the module map lives in the package docstring
    assert (REPO / "CHANGELOG.md").is_file()
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text)  # dated history lives in CHANGELOG.md
