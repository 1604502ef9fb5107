"""Catalogue figures: counts by kind, facet term, year and venue, and how complete each field is.

`python -m tools stats` prints them as Markdown tables (used in issue notes and release notes).
"""

from __future__ import annotations

from collections import Counter

from tools.catalog import Catalog
from tools.models import FACETS

OPTIONAL_FIELDS = (
    "authors",  # required, but left out (with `unverified`) where no source confirms them
    "tldr",
    "doi",
    "arxiv",
    "code",
    "datasets",
    "metrics",
    "knowledge",
    "modality",
    "setting",
    "implementation",
    "listed_in",
)


def _table(title: str, counter: Counter, total: int | None = None, limit: int | None = None) -> str:
    rows = counter.most_common(limit) if limit else sorted(counter.items())
    lines = [f"| {title} | papers |" + (" share |" if total else ""), "| --- | ---: |" + (" ---: |" if total else "")]
    for key, n in rows:
        lines.append(f"| {key} | {n} |" + (f" {n / total:.0%} |" if total else ""))
    return "\n".join(lines)


def report(cat: Catalog) -> str:
    papers = list(cat.papers.values())
    n = len(papers)
    parts = [f"{n} papers, {len(cat.datasets)} datasets, {len(cat.metrics)} metrics, {len(cat.venues)} venues"]
    parts.append(_table("kind", Counter(p.kind for p in papers), n))
    complete = Counter({f: sum(1 for p in papers if getattr(p, f)) for f in OPTIONAL_FIELDS})
    complete["doi or arxiv"] = sum(1 for p in papers if p.doi or p.arxiv)
    complete["peer-reviewed venue"] = sum(1 for p in papers if cat.venues[p.venue].type != "preprint")
    parts.append(_table("field filled", complete, n))
    for facet in FACETS:
        parts.append(_table(f"{facet} term", Counter(t for p in papers for t in getattr(p, facet))))
    parts.append(_table("year", Counter(p.year for p in papers)))
    parts.append(_table("venue (top 25)", Counter(cat.venues[p.venue].short for p in papers), limit=25))
    return "\n\n".join(parts)
