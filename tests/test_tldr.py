"""Summaries are our own words: not the title, not lifted from the source lists, one to three sentences."""

from __future__ import annotations

import csv
import re

import pytest

from tests.conftest import REPO
from tools.catalog import load_catalog
from tools.fingerprint import runs as _shingles
from tools.fingerprint import words as _words


@pytest.fixture(scope="module")
def source_shingles() -> set[tuple[str, ...]]:
    """Every 7-word run of free text in the public lists we copied (descriptions, notes, titles)."""
    out: set[tuple[str, ...]] = set()
    for name in ("seed-papers.tsv", "seed-resources.tsv", "peer-union.tsv"):
        with (REPO / "catalog/coverage" / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                for column in ("description", "notes", "issues"):
                    out |= _shingles(row.get(column) or "")
    return out


def test_tldrs_are_our_own_words(source_shingles) -> None:
    cat = load_catalog(REPO)
    problems = []
    for pid, paper in sorted(cat.papers.items()):
        if paper.tldr is None:  # allowed only with `unverified: [tldr]`, which the validator checks
            continue
        where = f"catalog/papers/{pid}.yaml: tldr"
        sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", paper.tldr.strip()) if s]
        if not 1 <= len(sentences) <= 3:
            problems.append(f"{where}: {len(sentences)} sentences; write one to three")
        if set(_words(paper.tldr)) <= set(_words(paper.title)):
            problems.append(f"{where}: repeats the title; say what the paper does and finds")
        copied = _shingles(paper.tldr) & source_shingles
        if copied:
            problems.append(f"{where}: shares '{' '.join(next(iter(copied)))}' with a source list; rewrite it")
    for kind, records, field in (("datasets", cat.datasets, "contents"), ("metrics", cat.metrics, "measures")):
        for rid, record in sorted(records.items()):
            copied = _shingles(getattr(record, field)) & source_shingles
            if copied:
                problems.append(
                    f"catalog/{kind}/{rid}.yaml: {field}: shares '{' '.join(next(iter(copied)))}' with a source list"
                )
    assert not problems, "\n".join(problems)
