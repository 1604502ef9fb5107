"""Own-words check for summaries: a tldr must share no 7-word run with the paper's abstract.

An abstract is copyrighted text, so the catalogue never stores it. It stores a fingerprint instead:
the hashes of the abstract's 7-word runs (catalog/coverage/abstract-fingerprints.tsv, one row per
paper). That is enough to tell, later and offline, whether an edited tldr copies its abstract, and
nothing of the abstract can be read back from it.

`python -m tools fingerprint <paper-id> <abstract-file>` checks a tldr against the abstract a
curator has in hand, and records the fingerprint once the tldr passes. The test suite re-checks every
recorded paper on each run (tests/test_tldr.py).
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

RUN = 7  # words; a shared run this long is copying, not coincidence
NEAR = 6  # a run this long is reported as a hint to rephrase, but allowed
TABLE = "catalog/coverage/abstract-fingerprints.tsv"
COLUMNS = ("paper", "checked", "hashes")


def words(text: str) -> list[str]:
    """Lower-case words and numbers: punctuation, case and spacing do not hide a copy."""
    return re.findall(r"[a-z0-9]+", text.lower())


def runs(text: str, n: int = RUN) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def run_hash(run: tuple[str, ...]) -> str:
    # 32 bits keep the table small (~9 bytes a run); a tldr's ~80 runs then hit an abstract's ~250
    # by chance with probability ~5e-6, and such a hit names a run the abstract visibly lacks.
    return hashlib.blake2b(" ".join(run).encode(), digest_size=4).hexdigest()


def fingerprint(text: str) -> list[str]:
    return sorted({run_hash(r) for r in runs(text)})


def copied(tldr: str, hashes: set[str]) -> list[str]:
    """The tldr's 7-word runs whose hash is in an abstract's fingerprint, in tldr order."""
    w = words(tldr)
    found = []
    for i in range(len(w) - RUN + 1):
        run = tuple(w[i : i + RUN])
        if run_hash(run) in hashes and " ".join(run) not in found:
            found.append(" ".join(run))
    return found


def shared(tldr: str, abstract: str, n: int) -> list[str]:
    """The tldr's n-word runs that also occur in the abstract (plain text, for messages)."""
    theirs = runs(abstract, n)
    return sorted({" ".join(r) for r in runs(tldr, n) if r in theirs})


def read_table(root: Path) -> dict[str, dict[str, str]]:
    path = root / TABLE
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["paper"]: row for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)}


def write_table(root: Path, rows: dict[str, dict[str, str]]) -> None:
    path = root / TABLE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, COLUMNS, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n")
        out.writeheader()
        for pid in sorted(rows):
            out.writerow({c: rows[pid][c] for c in COLUMNS})
