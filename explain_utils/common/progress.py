"""Progress bars that honour ``TQDM_DISABLE`` in notebooks too.

``tqdm.auto`` picks the widget bar inside Jupyter, and tqdm 4.70's widget bar ignores the
``TQDM_DISABLE`` environment switch that ``run_book`` sets for papermill runs; without this a
papermill-run notebook (and so the book) keeps a frozen "0%" widget per bar.
"""

from __future__ import annotations

import os
from typing import Any

from tqdm.auto import tqdm


def progress_bar(iterable: Any = None, **kwargs: Any) -> tqdm:
    """``tqdm.auto.tqdm`` that is off when ``TQDM_DISABLE`` is set (1/true), widget bar included."""
    if os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes"):
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)
