from pathlib import Path

import pytest

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
