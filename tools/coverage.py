"""Coverage of the public paper lists: which catalogue paper each list row is, or why it is left out.

The provenance tables in catalog/coverage/ are copies of the public lists this catalogue supersedes.
A row matches a paper by arXiv ID, DOI, or title (normalised, then fuzzy at >= 90); rows that can't
match automatically get a decision in catalog/coverage/decisions.yaml (`paper:` or `excluded:`).
Rows not yet curated are listed in catalog/coverage/backlog.txt, which may only shrink.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from tools import yamlio
from tools.catalog import Catalog, title_key

TITLE_MATCH = 90  # rapidfuzz ratio on normalised titles; list titles often differ in case or a word
_ARXIV_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})")
_DOI_IN_URL = re.compile(r"(10\.\d{4,9}/[^\s?#]+)")


@dataclass(frozen=True)
class Row:
    key: str  # peer-union `key`, or "seed:<method>" for seed rows
    title: str
    arxiv: str | None
    doi: str | None
    sources: tuple[str, ...]
    kind: str


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def _ids_from(url: str) -> tuple[str | None, str | None]:
    arxiv = _ARXIV_IN_URL.search(url or "")
    doi = _DOI_IN_URL.search(url or "")
    return (arxiv.group(1) if arxiv else None), (doi.group(1).rstrip(".") if doi else None)


def seed_rows(root: Path) -> list[Row]:
    rows = []
    for r in _read_tsv(root / "catalog/coverage/seed-papers.tsv"):
        arxiv, doi = _ids_from(r["url"])
        rows.append(Row(f"seed:{r['method']}", r["title"], arxiv, doi, ("overgter",), r["category_path"]))
    return rows


def peer_rows(root: Path) -> list[Row]:
    rows = []
    for r in _read_tsv(root / "catalog/coverage/peer-union.tsv"):
        url_arxiv, url_doi = _ids_from(r["url"])
        rows.append(
            Row(
                r["key"],
                r["title"],
                (r["arxiv_id"] or url_arxiv or None),
                (r["doi"] or url_doi or None),
                tuple(s.strip() for s in r["sources"].split(";") if s.strip()),
                r["kind"],
            )
        )
    return rows


def decisions(root: Path) -> dict[str, dict]:
    """key -> {'paper': id} or {'excluded': reason}; malformed entries raise ValueError with the line."""
    doc = yamlio.load(root / "catalog/coverage/decisions.yaml")
    items = (doc.data or {}).get("decisions") or []
    out: dict[str, dict] = {}
    for i, item in enumerate(items):
        line = doc.line_of(("decisions", i))
        if not isinstance(item, dict) or "key" not in item or len(set(item) & {"paper", "excluded"}) != 1:
            raise ValueError(
                f"catalog/coverage/decisions.yaml:{line}: each decision needs `key` and one of `paper`/`excluded`"
            )
        if item["key"] in out:
            raise ValueError(f"catalog/coverage/decisions.yaml:{line}: key {item['key']!r} has two decisions")
        out[item["key"]] = item
    return out


def backlog(root: Path) -> set[str]:
    path = root / "catalog/coverage/backlog.txt"
    if not path.exists():
        return set()
    keys = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {key for key in keys if key}


class Matcher:
    """Finds the catalogue papers a list row refers to."""

    def __init__(self, cat: Catalog):
        self.by_arxiv = {p.arxiv: pid for pid, p in cat.papers.items() if p.arxiv}
        self.by_doi = {p.doi.lower(): pid for pid, p in cat.papers.items() if p.doi}
        self.keys = {pid: title_key(p.title) for pid, p in cat.papers.items()}
        self.by_title = {k: pid for pid, k in self.keys.items()}
        self.title_choices = list(self.keys.values())

    def match(self, row: Row) -> set[str]:
        found = set()
        if row.arxiv and row.arxiv in self.by_arxiv:
            found.add(self.by_arxiv[row.arxiv])
        if row.doi and row.doi.lower() in self.by_doi:
            found.add(self.by_doi[row.doi.lower()])
        key = title_key(row.title)
        if key in self.by_title:
            found.add(self.by_title[key])
        elif not found and self.title_choices:
            best = process.extractOne(key, self.title_choices, scorer=fuzz.ratio, score_cutoff=TITLE_MATCH)
            if best:
                found.add(self.by_title[best[0]])
        return found


@dataclass
class Report:
    matched: dict[str, set[str]]  # row key -> paper IDs
    excluded: dict[str, str]  # row key -> reason
    pending: list[str]  # row keys in the backlog and not yet matched
    missing: list[str]  # row keys with no match, no decision, not in the backlog
    stale_backlog: list[str]  # backlog keys that are matched or decided: remove them from backlog.txt
    ambiguous: dict[str, set[str]]  # row keys matching several papers


def check(cat: Catalog, rows: list[Row], root: Path) -> Report:
    decided = decisions(root)
    waiting = backlog(root)
    matcher = Matcher(cat)
    report = Report({}, {}, [], [], [], {})
    for row in rows:
        decision = decided.get(row.key)
        if decision and "excluded" in decision:
            report.excluded[row.key] = decision["excluded"]
            continue
        found = {decision["paper"]} if decision else matcher.match(row)
        if decision and decision["paper"] not in cat.papers:
            found = set()
        if len(found) > 1:
            report.ambiguous[row.key] = found
        if found:
            report.matched[row.key] = found
        elif row.key in waiting:
            report.pending.append(row.key)
        else:
            report.missing.append(row.key)
    report.stale_backlog = sorted(k for k in waiting if k in report.matched or k in report.excluded)
    return report


def list_coverage(cat: Catalog, rows: list[Row], report: Report) -> dict[str, tuple[int, int]]:
    """list ID -> (rows covered by a paper or an exclusion, rows in that list)."""
    total: Counter[str] = Counter()
    covered: Counter[str] = Counter()
    for row in rows:
        for source in row.sources:
            total[source] += 1
            if row.key in report.matched or row.key in report.excluded:
                covered[source] += 1
    return {s: (covered[s], total[s]) for s in sorted(total)}
