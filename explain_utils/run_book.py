"""Run the book's notebooks through papermill, in ``_toc.yml`` order, each in place and atomically.

    python -m explain_utils.run_book                       # every notebook, quick profile
    python -m explain_utils.run_book --profile smoke
    python -m explain_utils.run_book --params my.yaml      # papermill parameters from YAML
    python -m explain_utils.run_book --only 01_data_generation

A YAML parameters file holds values for every notebook at its top level and, under a key named
after a notebook (``02_fine_tuning:``), values for that notebook alone.

A notebook is executed into a temporary file and replaces the committed one only when it ran
to the end; a failing notebook stops the run (its traceback is printed and the failed copy is
kept under ``_build/failed/``) and leaves the other notebooks and their cached results untouched.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import papermill
import yaml

from explain_utils.common.files import atomic_write
from explain_utils.common.names import DEFAULT_PROFILE
from explain_utils.profiles.checks import check_profile

KERNEL = "python3"
# Progress bars help in JupyterLab but fill a papermill-run notebook (and so the book) with
# hundreds of stderr lines: turn them off in the kernels papermill starts.
QUIET_PROGRESS = {
    "TQDM_DISABLE": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' "Writing model shards" bar
}


def toc_notebooks(book_root: Path) -> list[Path]:
    """Notebook files listed in ``_toc.yml``, in reading order."""
    toc_path = book_root / "_toc.yml"
    if not toc_path.is_file():
        raise FileNotFoundError(f"no _toc.yml in {book_root}")
    toc = yaml.safe_load(toc_path.read_text())
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    files.append(node[key])
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [book_root / f"{f}.ipynb" for f in files if (book_root / f"{f}.ipynb").is_file()]


def load_params(path: str | Path | None) -> dict[str, Any]:
    """Read a YAML parameters file (``{}`` when none is given)."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--params: file not found: {path}")
    params = yaml.safe_load(path.read_text()) or {}
    if not isinstance(params, dict):
        raise ValueError(f"--params: {path} must hold a mapping of parameter names to values")
    return params


def params_for(notebook: Path, params: dict[str, Any], notebook_names: set[str]) -> dict[str, Any]:
    """The parameters for one notebook: global values, then that notebook's own section."""
    shared = {k: v for k, v in params.items() if k not in notebook_names}
    own = params.get(notebook.stem) or {}
    if not isinstance(own, dict):
        raise ValueError(f"--params: the section {notebook.stem!r} must be a mapping")
    return {**shared, **own}


def hide_injected_parameters(path: Path) -> None:
    """Keep papermill's injected-parameters cell (it records what ran) but collapse it in the book."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags:
            if "hide-cell" not in tags:
                tags.append("hide-cell")
            # papermill ends the cell with a blank line, which `ruff format --check` rejects
            cell.source = cell.source.rstrip()
    nbformat.write(nb, path)


def run_notebook(notebook: Path, parameters: dict[str, Any], output: Path | None = None) -> float:
    """Execute ``notebook`` with papermill into ``output`` (default: in place); return seconds taken."""
    output = output or notebook
    for key, value in QUIET_PROGRESS.items():
        os.environ.setdefault(key, value)
    start = time.perf_counter()
    failed_copy = notebook.parent.parent / "_build" / "failed" / notebook.name

    def execute(tmp: Path) -> None:
        try:
            papermill.execute_notebook(
                str(notebook),
                str(tmp),
                parameters=parameters,
                kernel_name=KERNEL,
                cwd=str(notebook.parent),
                progress_bar=False,
            )
        except BaseException:
            failed_copy.parent.mkdir(parents=True, exist_ok=True)
            if tmp.exists() and tmp.stat().st_size:
                shutil.copy(tmp, failed_copy)
            raise
        hide_injected_parameters(tmp)

    atomic_write(output, execute)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default=None, help="smoke, quick (default) or paper")
    parser.add_argument("--params", default=None, help="YAML file of papermill parameters")
    parser.add_argument(
        "--only", action="append", default=None, help="run only this notebook (stem); repeatable"
    )
    parser.add_argument("--book-root", default=".", help="folder holding _toc.yml")
    args = parser.parse_args(argv)
    # a stopped run (kill, CI timeout) exits through Python, so the half-written notebook's
    # temporary file is removed (atomic_write) instead of being picked up by the book build
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    root = Path(args.book_root).resolve()
    params = load_params(args.params)
    profile = args.profile or params.get("profile", DEFAULT_PROFILE)
    check_profile(profile)
    params["profile"] = profile
    notebooks = toc_notebooks(root)
    names = {nb.stem for nb in notebooks}
    if args.only:
        unknown = set(args.only) - names
        if unknown:
            raise SystemExit(
                f"--only: unknown notebook(s) {sorted(unknown)}; allowed: {sorted(names)}"
            )
        notebooks = [nb for nb in notebooks if nb.stem in args.only]

    total = 0.0
    for nb in notebooks:
        # the start time lets the timing record count a notebook whose run was stopped midway
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        print(
            f"[run_book] {nb.relative_to(root)} (profile {profile}) started {started} ...",
            flush=True,
        )
        try:
            seconds = run_notebook(nb, params_for(nb, params, names))
        except papermill.PapermillExecutionError as err:
            print(
                f"[run_book] FAILED in {nb.name}, cell {err.exec_count}:\n{err.ename}: {err.evalue}\n"
                f"{''.join(err.traceback)}",
                file=sys.stderr,
            )
            print(
                f"[run_book] the failed copy is in _build/failed/{nb.name}; {nb.name} itself is unchanged",
                file=sys.stderr,
            )
            return 1
        total += seconds
        print(f"[run_book] {nb.name} done in {seconds:.0f} s", flush=True)
    print(f"[run_book] {len(notebooks)} notebook(s) in {total / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
