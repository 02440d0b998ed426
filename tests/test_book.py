"""Every notebook runs through papermill with the smoke profile, and the book builds with -W."""

import shutil
from pathlib import Path

import nbformat
import pytest

from explain_utils.run_book import load_params, params_for, run_notebook, toc_notebooks

pytestmark = pytest.mark.slow


def test_toc_lists_the_notebooks_in_order(repo):
    names = [nb.stem for nb in toc_notebooks(repo)]
    assert names == [
        "01_data_generation",
        "02_fine_tuning",
        "03_data_efficiency",
        "04_length_generalization",
        "05_prompt_loss_ablation",
        "claims",  # reads the claim checks the five notebooks wrote, so it runs after them
        "06_own_data",  # one's own data: needs nothing of chapters 1-5
    ]


def test_every_notebook_has_a_parameters_cell(repo):
    for nb_path in toc_notebooks(repo):
        nb = nbformat.read(nb_path, as_version=4)
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), nb_path.name


def test_smoke_run_writes_data_and_hides_injected_parameters(smoke_book):
    assert (smoke_book / "data" / "listops" / "train.parquet").exists()
    assert (smoke_book / "data" / "modular_sum" / "data_card.json").exists()
    assert (smoke_book / "data" / "own_data" / "train.parquet").exists()  # chapter 6's sample
    for nb_path in toc_notebooks(smoke_book):
        nb = nbformat.read(nb_path, as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert injected and "hide-cell" in injected[0].metadata["tags"]
        assert injected[0].source == injected[0].source.rstrip()  # `ruff format --check` passes
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], nb_path.name
        # no frozen progress widgets: run_book turns progress bars off in papermill runs
        widgets = [
            o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        assert not widgets, nb_path.name


def test_bad_parameter_fails_fast_and_leaves_notebook_untouched(repo, tmp_path):
    import papermill

    nb = tmp_path / "01.ipynb"
    shutil.copy(repo / "notebooks" / "01_data_generation.ipynb", nb)
    before = nb.read_bytes()
    with pytest.raises(papermill.PapermillExecutionError, match="profile must be one of"):
        run_notebook(nb, {"profile": "fast", "output_dir": str(tmp_path / "data")})
    assert nb.read_bytes() == before
    assert not (tmp_path / "data").exists()


def test_params_file_sections(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("seed: 3\n01_data_generation:\n  modulus: 30\n")
    params = load_params(f)
    names = {"01_data_generation", "02_fine_tuning"}
    assert params_for(Path("01_data_generation.ipynb"), params, names) == {"seed": 3, "modulus": 30}
    assert params_for(Path("02_fine_tuning.ipynb"), params, names) == {"seed": 3}
    with pytest.raises(FileNotFoundError, match="--params"):
        load_params(tmp_path / "missing.yaml")


def test_book_builds_with_warnings_as_errors(built_site):
    page = (built_site / "notebooks" / "01_data_generation.html").read_text()
    assert "answer 7" in page  # the four-levels table rendered (all four operators, value 7)


def _prose(repo: Path) -> dict[str, str]:
    """The reader-facing text: markdown cells of the notebooks, the book's pages, the README."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in (repo / "book").glob("*.md")}
    texts["README.md"] = (repo / "README.md").read_text(encoding="utf-8")
    for path in [*(repo / "notebooks").glob("*.ipynb"), *(repo / "book").glob("*.ipynb")]:
        cells = nbformat.read(path, as_version=4).cells
        texts[path.name] = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    return texts


def test_every_name_of_the_package_the_text_shows_exists(repo):
    """Code a reader copies from the text imports, and every ``explain_utils.x.y`` it names is
    there: a renamed module fails here, not in a student's lab."""
    import importlib
    import re

    missing = []
    for name, text in _prose(repo).items():
        for module, names in re.findall(r"from (explain_utils[\w.]*) import ([\w, ]+)", text):
            imported = importlib.import_module(module)
            missing += [
                f"{name}: {module}.{n}"
                for n in names.replace(" ", "").split(",")
                if n and not hasattr(imported, n)
            ]
        for dotted in re.findall(r"`(explain_utils(?:\.\w+)+)", text):
            parts = dotted.split(".")
            for cut in range(len(parts), 0, -1):
                try:
                    found = importlib.import_module(".".join(parts[:cut]))
                except ModuleNotFoundError:
                    continue
                for attribute in parts[cut:]:
                    found = getattr(found, attribute, None)
                if found is None:
                    missing.append(f"{name}: {dotted}")
                break
    assert not missing, "the text names what the package does not have:\n" + "\n".join(missing)
