"""Papers we looked at and did not catalogue: catalog/coverage/screened.tsv.

Curators screen far more candidate papers than they add. A candidate is left out for one of two
reasons, and the file records which, so nobody asks the same question twice:

- `out-of-scope`: the paper is not about model inversion (CONTRIBUTING.md, "What belongs here").
- `unverified`: it belongs here, but its authors, venue or abstract could not be confirmed on a
  primary page yet. The site lists these as help wanted.

The validator (tools/catalog.py) checks every row, and that no screened row is also a catalogue paper:
once a paper is added, its row must go.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

TABLE = "catalog/coverage/screened.tsv"
COLUMNS = ("arxiv", "title", "verdict", "reason", "screened")
VERDICTS = ("out-of-scope", "unverified")
_ARXIV = re.compile(r"\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_REASON = 200  # one sentence; the full story belongs in the pull request


@dataclass(frozen=True)
class Screened:
    line: int
    arxiv: str | None
    title: str
    verdict: str
    reason: str
    screened: str


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    message: str


def read(root: Path) -> tuple[list[Screened], list[RowProblem]]:
    """Rows that are well-formed, and a problem (line, column, what to do) for each one that is not."""
    path = root / TABLE
    if not path.exists():
        return [], []
    rows: list[Screened] = []
    problems: list[RowProblem] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if tuple(header or ()) != COLUMNS:
            return [], [
                RowProblem(1, "(header)", f"the first line must name the columns {', '.join(COLUMNS)}, tab-separated")
            ]
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(COLUMNS):
                problems.append(
                    RowProblem(line, "(row)", f"has {len(cells)} columns, needs {len(COLUMNS)} separated by tabs")
                )
                continue
            row, row_problems = _parse(line, dict(zip(COLUMNS, (c.strip() for c in cells))))
            problems += row_problems
            if row:
                rows.append(row)
    seen: dict[str, int] = {}
    for row in rows:
        key = row.arxiv or row.title.casefold()
        if key in seen:
            problems.append(RowProblem(row.line, "arxiv" if row.arxiv else "title", f"repeats line {seen[key]}"))
        seen.setdefault(key, row.line)
    return rows, problems


def _parse(line: int, cell: dict[str, str]) -> tuple[Screened | None, list[RowProblem]]:
    problems = []
    if cell["arxiv"] and not _ARXIV.fullmatch(cell["arxiv"]):
        problems.append(RowProblem(line, "arxiv", f"{cell['arxiv']!r} is not a bare arXiv ID like 2502.12658"))
    if not cell["title"]:
        problems.append(RowProblem(line, "title", "required: the paper's title"))
    if cell["verdict"] not in VERDICTS:
        problems.append(RowProblem(line, "verdict", f"{cell['verdict']!r} must be one of {', '.join(VERDICTS)}"))
    if not cell["reason"]:
        problems.append(RowProblem(line, "reason", "required: say in one sentence why it is not catalogued"))
    elif len(cell["reason"]) > MAX_REASON:
        problems.append(RowProblem(line, "reason", f"longer than {MAX_REASON} characters; shorten it"))
    if not _DATE.fullmatch(cell["screened"]):
        problems.append(RowProblem(line, "screened", "the date of the decision, as YYYY-MM-DD"))
    if problems:
        return None, problems
    return Screened(line, cell["arxiv"] or None, cell["title"], cell["verdict"], cell["reason"], cell["screened"]), []
