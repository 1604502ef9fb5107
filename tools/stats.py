"""Catalogue figures: counts by kind, facet term, year and venue, and how complete each field is.

`python -m tools stats` prints them as Markdown tables (used in issue notes and release notes);
`--listed-in LIST` restricts every figure to the papers one tracked list mentions (e.g. the seed
survey's, `overgter`), so a list's completeness is measurable on its own; `--listed-in any` takes
the papers at least one tracked list mentions (the bar issue 4 sets for the lists' union).
"""

from __future__ import annotations

from collections import Counter

from tools import fingerprint
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


# A survey evaluates nothing itself, so its datasets and metrics are not missing: these fields are
# counted over the other kinds only.
EXPERIMENTAL_FIELDS = ("datasets", "metrics")


def _table(title: str, counter: Counter, total: int | None = None, limit: int | None = None) -> str:
    rows = counter.most_common(limit) if limit else sorted(counter.items())
    lines = [f"| {title} | papers |" + (" share |" if total else ""), "| --- | ---: |" + (" ---: |" if total else "")]
    for key, n in rows:
        lines.append(f"| {key} | {n} |" + (f" {n / total:.0%} |" if total else ""))
    return "\n".join(lines)


def _completeness(cat: Catalog, papers: list) -> str:
    experimental = [p for p in papers if p.kind != "survey"]
    rows = [(f, papers) for f in OPTIONAL_FIELDS if f not in EXPERIMENTAL_FIELDS]
    rows += [(f, experimental) for f in EXPERIMENTAL_FIELDS]
    filled = {f: (sum(1 for p in among if getattr(p, f)), len(among)) for f, among in rows}
    filled["datasets and metrics"] = (sum(1 for p in experimental if p.datasets and p.metrics), len(experimental))
    filled["doi or arxiv"] = (sum(1 for p in papers if p.doi or p.arxiv), len(papers))
    checked = fingerprint.read_table(cat.root)  # tldrs checked against their abstract (tools/fingerprint.py)
    with_tldr = [p for p in papers if p.tldr]
    filled["tldr checked against abstract"] = (sum(1 for p in with_tldr if p.id in checked), len(with_tldr))
    filled["peer-reviewed venue"] = (
        sum(1 for p in papers if cat.venues[p.venue].type != "preprint"),
        len(papers),
    )
    lines = ["| field filled | papers | of | share |", "| --- | ---: | ---: | ---: |"]
    for field, (n, among) in sorted(filled.items()):
        lines.append(f"| {field} | {n} | {among} | {n / among:.0%} |" if among else f"| {field} | 0 | 0 | – |")
    return "\n".join(lines)


ANY_LIST = "any"


def report(cat: Catalog, listed_in: str | None = None) -> str:
    if listed_in == ANY_LIST:
        papers = [p for p in cat.papers.values() if p.listed_in]
        scope = " listed in any tracked list"
    else:
        papers = [p for p in cat.papers.values() if listed_in is None or listed_in in p.listed_in]
        scope = f" listed in {listed_in}" if listed_in else ""
    n = len(papers)
    parts = [f"{n} papers{scope}, {len(cat.datasets)} datasets, {len(cat.metrics)} metrics, {len(cat.venues)} venues"]
    parts.append(_table("kind", Counter(p.kind for p in papers), n))
    parts.append(_completeness(cat, papers))
    for facet in FACETS:
        parts.append(_table(f"{facet} term", Counter(t for p in papers for t in getattr(p, facet))))
    parts.append(_table("year", Counter(p.year for p in papers)))
    parts.append(_table("venue (top 25)", Counter(cat.venues[p.venue].short for p in papers), limit=25))
    return "\n\n".join(parts)
