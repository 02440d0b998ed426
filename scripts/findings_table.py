"""Write the README's findings table from the claim checks the notebooks wrote.

    .venv/bin/python scripts/findings_table.py           # rewrite the table in README.md
    .venv/bin/python scripts/findings_table.py --check   # exit 1 if README.md's table is stale

The table (claim, the paper's figure, ours, verdict) is generated from ``results/claims/*.csv``
in the claims chapter's order and goes between the two markers below, so the README never states
a finding that the committed results do not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from explain_utils.claims.claim import read_claims
from explain_utils.common.files import write_text

REPO = Path(__file__).resolve().parents[1]
BEGIN = "<!-- findings-table: begin (scripts/findings_table.py writes this table) -->"
END = "<!-- findings-table: end -->"
COLUMNS = {"claim": "claim", "paper": "paper", "ours": "this book", "verdict": "verdict"}


def _cell(value: object) -> str:
    # a pipe would end the cell and a newline the row
    text = "" if pd.isna(value) else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def findings_table(claims_dir: Path) -> str:
    """The claims as a Markdown table, one row per claim check, in claim order."""
    claims = read_claims(claims_dir)
    lines = ["| " + " | ".join(COLUMNS.values()) + " |", "|" + "---|" * len(COLUMNS)]
    for _, row in claims.iterrows():
        lines.append("| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)


def with_table(readme: str, table: str) -> str:
    """The README's text with ``table`` between the markers (which must each appear once)."""
    if (
        readme.count(BEGIN) != 1
        or readme.count(END) != 1
        or readme.index(BEGIN) > readme.index(END)
    ):
        raise ValueError(f"README.md needs the markers, once each and in order:\n{BEGIN}\n{END}")
    head, rest = readme.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--claims-dir", type=Path, default=REPO / "results" / "claims")
    args = parser.parse_args(argv)

    readme = args.readme.read_text(encoding="utf-8")
    wanted = with_table(readme, findings_table(args.claims_dir))
    if args.check:
        if wanted != readme:
            print(f"{args.readme}: the findings table differs from results/claims; run {__file__}")
            return 1
        return 0
    if wanted != readme:
        write_text(args.readme, wanted)
        print(f"{args.readme}: findings table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
