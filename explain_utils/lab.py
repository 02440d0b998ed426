"""Run a chapter as a lab: papermill with every data, runs and results path in a scratch folder.

    python -m explain_utils.lab 01_data_generation -p profile smoke -p modulus 30
    python -m explain_utils.lab 02_fine_tuning -p profile smoke -p steps 300
    python -m explain_utils.lab 02_fine_tuning --scratch /tmp/my-lab -p profile smoke
    python -m explain_utils.lab 06_own_data -p data_file my_data.jsonl -p profile smoke

The executed notebook is written to ``<scratch>/<notebook>.ipynb`` and the data, the runs and the
tidy results to ``<scratch>/data``, ``<scratch>/runs`` and ``<scratch>/results``, so an exercise
never touches the book's tracked ``data/``, ``results/`` or ``notebooks/``; the book's learning
rates (``results/calibration``) are copied into the scratch results once. Run chapter 1 first in
the same scratch folder: the other chapters read the data it writes there (chapter 6 writes its
own, from ``data_file``, a path relative to the current folder). Values are YAML
(``-p train_sizes '[100, 300]'``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import papermill
import yaml

from explain_utils.common.names import CALIBRATION_DIR
from explain_utils.run_book import run_notebook, toc_notebooks

SCRATCH = Path("lab")  # git-ignored
DATA_NOTEBOOK = "01_data_generation"  # writes the data (output_dir); the others read it
# writes its own data (from data_file, a path relative to where the lab is started)
OWN_DATA_NOTEBOOK = "06_own_data"


def lab_parameters(notebook: str, scratch: Path, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the notebook's path parameters pointed into ``scratch`` (absolute paths)."""
    scratch = scratch.resolve()
    if notebook == DATA_NOTEBOOK:
        paths = {"output_dir": scratch / "data"}
    else:
        paths = {
            "data_dir": scratch / "data",
            "runs_dir": scratch / "runs",
            "results_dir": scratch / "results",
        }
    clash = sorted(set(params) & set(paths))
    if clash:
        raise ValueError(
            f"-p {clash[0]}: a lab keeps {', '.join(sorted(paths))} in the scratch folder; "
            "choose the folder with --scratch instead"
        )
    if notebook == OWN_DATA_NOTEBOOK and params.get("data_file") is not None:
        # papermill runs the notebook in notebooks/: a relative path is the caller's
        params = {**params, "data_file": str(Path(str(params["data_file"])).expanduser().resolve())}
    return {**params, **{name: str(path) for name, path in paths.items()}}


def parse_params(pairs: list[list[str]]) -> dict[str, Any]:
    """``[["steps", "300"], ...]`` → ``{"steps": 300}``, each value read as YAML."""
    params = {}
    for name, text in pairs:
        try:
            params[name] = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ValueError(f"-p {name}: {text!r} is not a YAML value ({err})") from None
    return params


def run_lab(
    notebook: str, params: dict[str, Any], scratch: Path = SCRATCH, book_root: Path = Path(".")
) -> Path:
    """Execute ``notebooks/<notebook>.ipynb`` with its paths in ``scratch``; return the output."""
    notebooks = {nb.stem: nb for nb in toc_notebooks(book_root.resolve())}
    chapters = sorted(name for name, nb in notebooks.items() if nb.parent.name == "notebooks")
    if notebook not in chapters:
        raise ValueError(f"notebook must be one of {chapters}; got {notebook!r}")
    check_names(notebooks[notebook], params)
    parameters = lab_parameters(notebook, scratch, params)
    needs_listops = notebook not in (DATA_NOTEBOOK, OWN_DATA_NOTEBOOK)
    if needs_listops and not (scratch / "data" / "listops").is_dir():
        raise FileNotFoundError(
            f"no data in {str(scratch / 'data')!r}: run `python -m explain_utils.lab "
            f"{DATA_NOTEBOOK}` with the same --scratch and profile first"
        )
    scratch.mkdir(parents=True, exist_ok=True)
    _copy_calibration(book_root / "results", scratch / "results")
    output = scratch.resolve() / f"{notebook}.ipynb"
    seconds = run_notebook(notebooks[notebook], parameters, output)
    print(f"[lab] {notebook} ran in {seconds:.0f} s; the executed notebook is {output}")
    return output


def check_names(notebook: Path, params: dict[str, Any]) -> None:
    """Refuse a ``-p`` name the notebook's parameters cell does not have: papermill would inject
    it beside the others and the run would silently use the defaults (``-p stpes 300``)."""
    known = sorted(papermill.inspect_notebook(str(notebook)))
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"-p {unknown[0]}: {notebook.stem} has no such parameter; it has {known}")


def _copy_calibration(book_results: Path, scratch_results: Path) -> None:
    """The book's committed learning rates (``make calibrate``) into the scratch results, once, so
    a lab trains each cell at the rate the chapters use (a student may then edit the copy)."""
    source, target = book_results / CALIBRATION_DIR, scratch_results / CALIBRATION_DIR
    if source.is_dir() and not target.exists():
        shutil.copytree(source, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebook", help="a chapter's notebook, e.g. 02_fine_tuning")
    parser.add_argument(
        "-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="a parameter"
    )
    parser.add_argument("--scratch", default=str(SCRATCH), help="folder for everything it writes")
    args = parser.parse_args(argv)
    try:
        run_lab(args.notebook, parse_params(args.p), Path(args.scratch))
    except (ValueError, FileNotFoundError) as err:
        print(f"[lab] {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
