import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from explain_utils.run_book import run_notebook, toc_notebooks

# no per-example deadline: the property tests check what is computed, never how fast, and a
# loaded CI machine (or training beside the tests) would otherwise fail them at random
settings.register_profile("book", deadline=None)
settings.load_profile("book")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def listops_sample() -> Path:
    path = SHARED / "data" / "listops_original_sample.tsv"
    if not path.exists():
        pytest.skip(f"{path} not found (../shared sits beside the checkout in CI)")
    return path


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> Path:
    """A copy of the book whose notebooks were executed with the smoke profile."""
    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, root / name)
    for folder in ("book", "notebooks"):
        shutil.copytree(
            REPO / folder,
            root / folder,
            ignore=shutil.ignore_patterns("_smoke", ".ipynb_checkpoints"),
        )
    # book/reproducing.md shows the committed timing record (a smoke run writes none)
    shutil.copytree(REPO / "results" / "timing", root / "results" / "timing")
    data_dir = root / "data"
    for nb in toc_notebooks(root):
        run_notebook(
            nb, {"profile": "smoke", "output_dir": str(data_dir), "data_dir": str(data_dir)}
        )
    return root


@pytest.fixture(scope="session")
def built_site(smoke_book) -> Path:
    """The smoke book built to HTML with warnings as errors; returns the html folder."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(smoke_book), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return smoke_book / "_build" / "html"
