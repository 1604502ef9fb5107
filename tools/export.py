"""The whole catalogue as downloadable files: JSON (+ JSON Schema), CSV, BibTeX, CSL-JSON, per-term BibTeX.

`python -m tools export --out DIR` writes them; the site's Downloads page ships the same files. Every
function takes a `Catalog` that loaded without problems and returns text; `write_exports` writes them.
Each format is read back by an independent reader in tests/test_site_exports.py.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tools import bibtex
from tools.catalog import Catalog
from tools.models import FACETS, Dataset, Metric, Paper, PaperList, Taxonomy, Venue

# CSV columns: every Paper field, in model order. Lists are joined with LIST_SEP.
CSV_COLUMNS = list(Paper.model_fields)
LIST_SEP = "; "
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection). Such cells get a
# leading apostrophe, which spreadsheets hide and readers must strip (OWASP's advice).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSL_TYPES = {
    "conference": "paper-conference",
    "workshop": "paper-conference",
    "journal": "article-journal",
    "book": "chapter",
    "preprint": "article",
}


class CatalogueExport(BaseModel):
    """The JSON download: every record of the catalogue in one document."""

    model_config = ConfigDict(extra="forbid")
    papers: list[Paper] = Field(description="Every paper, sorted by ID.")
    datasets: list[Dataset] = Field(description="Every dataset, sorted by ID.")
    metrics: list[Metric] = Field(description="Every metric, sorted by ID.")
    venues: list[Venue] = Field(description="Every venue, in catalog/venues.yaml order.")
    lists: list[PaperList] = Field(description="Public paper lists tracked for coverage.")
    taxonomy: Taxonomy = Field(description="Facets and their terms.")


def _sorted(records: dict) -> list:
    return [records[k] for k in sorted(records)]


def catalogue_json(cat: Catalog) -> str:
    export = CatalogueExport(
        papers=_sorted(cat.papers),
        datasets=_sorted(cat.datasets),
        metrics=_sorted(cat.metrics),
        venues=list(cat.venues.values()),
        lists=list(cat.lists.values()),
        taxonomy=cat.taxonomy,
    )
    return _json(export.model_dump(mode="json", exclude_none=True))


def _json(data) -> str:
    # Compact: json's C encoder is only used without indentation, and it is many times faster at
    # 10,000 papers. Readers that want it pretty can reformat (python -m json.tool).
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def catalogue_schema() -> str:
    schema = CatalogueExport.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "catalogue.schema.json"
    return json.dumps(schema, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _csv_cell(value) -> str:
    if value is None:
        return ""
    text = LIST_SEP.join(value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def papers_csv(cat: Catalog) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for paper in _sorted(cat.papers):
        writer.writerow([_csv_cell(getattr(paper, col)) for col in CSV_COLUMNS])
    return out.getvalue()


def bibtex_entries(cat: Catalog) -> dict[str, str]:
    """paper ID -> its BibTeX text (computed once; the site and the exports share it)."""
    return {pid: bibtex.paper_bibtex(p, cat.venues.get(p.venue)) for pid, p in sorted(cat.papers.items())}


def _join_bib(texts: list[str]) -> str:
    return "\n".join(texts)


def split_name(name: str) -> dict[str, str]:
    """'Given Family' -> CSL name, taking the last word as the family name (the catalogue writes names
    given-first). A multi-word family name ('van der Maaten') is split at its last word; processors
    still print the full name in order. A one-word name becomes a 'literal' name."""
    given, _, family = name.rpartition(" ")
    return {"given": given, "family": family} if given else {"literal": family}


def csl_item(paper: Paper, venue: Venue | None) -> dict:
    item: dict = {
        "id": paper.id,
        "type": CSL_TYPES[venue.type if venue else "preprint"],
        "title": paper.title,
        "issued": {"date-parts": [[paper.year]]},
        "URL": paper.url,
    }
    if paper.authors:  # CSL readers treat a missing author as unknown; an empty list would read as "none"
        item["author"] = [split_name(a) for a in paper.authors]
    if venue is not None and venue.type == "preprint":
        item["publisher"] = venue.name
    elif venue is not None:
        item["container-title"] = venue.name
        if venue.publisher:
            item["publisher"] = venue.publisher
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.arxiv:
        item["number"] = f"arXiv:{paper.arxiv}"
    return item


def catalogue_csl(cat: Catalog) -> str:
    items = [csl_item(p, cat.venues.get(p.venue)) for p in _sorted(cat.papers)]
    return _json(items)


def term_papers(cat: Catalog, facet: str) -> dict[str, list[str]]:
    """term ID -> sorted IDs of papers filed under the term or any of its descendants."""
    terms = cat.terms[facet]
    result: dict[str, set[str]] = {t: set() for t in terms}
    for pid, paper in cat.papers.items():
        for term in getattr(paper, facet):
            seen = set()
            while term is not None and term in terms and term not in seen:  # walk up to the root
                seen.add(term)
                result[term].add(pid)
                term = terms[term].parent
    return {t: sorted(ids) for t, ids in result.items()}


def render_exports(cat: Catalog, entries: dict[str, str] | None = None) -> dict[str, str]:
    """Relative file path -> text, for every export."""
    entries = entries if entries is not None else bibtex_entries(cat)
    files = {
        "catalogue.json": catalogue_json(cat),
        "catalogue.schema.json": catalogue_schema(),
        "papers.csv": papers_csv(cat),
        "catalogue.bib": _join_bib(list(entries.values())),
        "catalogue.csl.json": catalogue_csl(cat),
    }
    for facet in FACETS:
        for term, ids in term_papers(cat, facet).items():
            if ids:
                files[f"bibtex/{facet}/{term}.bib"] = _join_bib([entries[i] for i in ids])
    return files


def write_exports(cat: Catalog, out: Path) -> list[Path]:
    written = []
    for rel, text in render_exports(cat).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
