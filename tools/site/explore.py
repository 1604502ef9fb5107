"""The data behind the Explore page: every paper in a compact JSON that site/javascripts/explore.js filters.

Size matters (target: at most 100 KB gzipped for 1,000 papers), so vocabularies are sent once and
papers refer to them by index:

    {"paper_url": "generated/papers/{id}.html",
     "facets": [{"id": "kind", "label": "Kind", "values": [[term ID, label, parent index or -1], ...]}, ...],
     "venues": [[venue ID, short name], ...],
     "papers": [[id, title, "Author One, Author Two", year, venue index, flags, [facet 0 value indices], ...]]}

flags: bit 0 = links code, bit 1 = has a reference implementation. Facet value lists hold the terms a
paper is filed under (not their ancestors; the script adds those).

The text filter also searches summaries, from a second file, {paper ID: tldr}, fetched only when
someone first types in the text box: it is larger than the list itself and most visits never need it.
"""

from __future__ import annotations

import json

from tools.catalog import Catalog
from tools.models import FACETS

# Facets shown in Explore, in order: the paper's kind, then the taxonomy facets the issue asks for.
EXPLORE_FACETS = ("kind", "attack_family", "defense_family", "modality", "setting", "knowledge")
KIND_LABELS = {
    "attack": "Attack",
    "defense": "Defense",
    "survey": "Survey",
    "benchmark": "Benchmark",
    "tool": "Tool",
    "analysis": "Analysis",
}
CODE, REFERENCE = 1, 2


def explore_data(cat: Catalog, paper_url: str) -> dict:
    facet_labels = {f.id: f.label for f in cat.taxonomy.facets} if cat.taxonomy else {}
    facets, index = [], {}
    for fid in EXPLORE_FACETS:
        if fid == "kind":
            values = [[k, label, -1] for k, label in KIND_LABELS.items()]
            label = "Kind"
        else:
            assert fid in FACETS
            terms = list(cat.terms[fid].values())
            position = {t.id: i for i, t in enumerate(terms)}
            values = [[t.id, t.label, position.get(t.parent, -1) if t.parent else -1] for t in terms]
            label = facet_labels.get(fid, fid)
        facets.append({"id": fid, "label": label, "values": values})
        index[fid] = {v[0]: i for i, v in enumerate(values)}
    venue_ids = sorted({p.venue for p in cat.papers.values()})
    venue_index = {v: i for i, v in enumerate(venue_ids)}
    venues = [[v, cat.venues[v].short if v in cat.venues else v] for v in venue_ids]
    papers = []
    for pid in sorted(cat.papers):
        p = cat.papers[pid]
        flags = (CODE if p.code else 0) | (REFERENCE if p.implementation else 0)
        row = [pid, p.title, ", ".join(p.authors), p.year, venue_index[p.venue], flags]
        for fid in EXPLORE_FACETS:
            values = [p.kind] if fid == "kind" else getattr(p, fid)
            row.append([index[fid][v] for v in values if v in index[fid]])
        papers.append(row)
    return {"paper_url": paper_url, "facets": facets, "venues": venues, "papers": papers}


def summaries_json(cat: Catalog) -> str:
    """{paper ID: tldr} for the papers that have one; the text filter matches words in it too."""
    data = {pid: p.tldr for pid, p in sorted(cat.papers.items()) if p.tldr}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def explore_json(cat: Catalog, paper_url: str) -> str:
    # No spaces: the file is sent to every visitor of Explore.
    return json.dumps(explore_data(cat, paper_url), ensure_ascii=False, separators=(",", ":"))
