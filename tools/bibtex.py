"""Catalogue papers as BibTeX entries, written by bibtexparser (never by string templates).

One entry per paper, keyed by the paper ID. The entry type follows the venue's type (conference and
workshop -> @inproceedings, journal -> @article, book -> @incollection, preprint -> @misc with the
arXiv fields). Free text (title, names, venue) is LaTeX-encoded with pylatexenc, bibtexparser's own
dependency, so `&`, `%`, `_`, braces and accents survive a LaTeX run; the title gets one extra pair of
braces so BibTeX styles keep its casing. URLs, DOIs and arXiv IDs are written verbatim.

Used by the site (a BibTeX block on each paper page, per-term files) and by `python -m tools export`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.parsestack import default_unparse_stack
from pylatexenc.latexencode import RULE_DICT, UnicodeToLatexConversionRule, UnicodeToLatexEncoder

from tools.models import Paper, Venue

# Every special character (not only non-ASCII) becomes a LaTeX command, each wrapped in braces so
# that "{\"u}" cannot merge with the letters around it. A straight double quote stays one (pylatexenc
# would turn it into closing quotes, changing the title). The multiplication sign ("100x Faster")
# goes to math mode: pylatexenc's \texttimes needs textcomp and most BibTeX readers do not decode it.
# Curly quotes become TeX's own quote ligatures (``...'' and `...'), for the same reason: readers
# decode those, but not pylatexenc's \textquotedblleft and friends.
_PLAIN_RULES = {ord('"'): '"', ord("×"): r"$\times$", ord("“"): "``", ord("”"): "''", ord("‘"): "`", ord("’"): "'"}
_ENCODER = UnicodeToLatexEncoder(
    conversion_rules=[UnicodeToLatexConversionRule(RULE_DICT, _PLAIN_RULES), "defaults"],
    non_ascii_only=False,
    replacement_latex_protection="braces-all",
    unknown_char_policy="keep",
)

ENTRY_TYPES = {
    "conference": "inproceedings",
    "workshop": "inproceedings",
    "journal": "article",
    "book": "incollection",
    "preprint": "misc",
}


@lru_cache(maxsize=4096)  # venue names, publishers and frequent authors repeat across thousands of entries
def latex(text: str) -> str:
    """Plain catalogue text -> LaTeX source that typesets as the same text."""
    return _ENCODER.unicode_to_latex(text)


def paper_entry(paper: Paper, venue: Venue | None) -> model.Entry:
    """The BibTeX entry of one paper (fields in the usual reading order)."""
    venue_type = venue.type if venue else "preprint"
    entry_type = ENTRY_TYPES[venue_type]
    fields = [("author", " and ".join(latex(name) for name in paper.authors))] if paper.authors else []
    fields.append(("title", "{" + latex(paper.title) + "}"))
    if venue is not None and venue_type in ("conference", "workshop", "book"):
        fields.append(("booktitle", latex(venue.name)))
    elif venue is not None and venue_type == "journal":
        fields.append(("journal", latex(venue.name)))
    elif venue is not None and venue.id != "arxiv":
        fields.append(("howpublished", latex(venue.name)))
    fields.append(("year", str(paper.year)))
    if venue is not None and venue.publisher and venue_type != "preprint":
        fields.append(("publisher", latex(venue.publisher)))
    if paper.doi:
        fields.append(("doi", paper.doi))
    if paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archiveprefix", "arXiv")]
    fields.append(("url", paper.url))
    return model.Entry(entry_type, paper.id, [model.Field(k, v) for k, v in fields])


# Two-space indentation: tabs would turn into spaces on the site (Markdown expands them), and the copy
# button must give exactly what the downloads hold.
FORMAT = bibtexparser.BibtexFormat()
FORMAT.indent = "  "


def write_entries(entries: Iterable[model.Entry]) -> str:
    """BibTeX text of the given entries, in the given order."""
    library = bibtexparser.Library()
    for entry in entries:
        library.add(entry)
    # The library is built here and thrown away, so the writer may change it in place (its default
    # deep-copies it first, a third of the cost at thousands of entries).
    return bibtexparser.write_string(
        library, unparse_stack=default_unparse_stack(allow_inplace_modification=True), bibtex_format=FORMAT
    )


def paper_bibtex(paper: Paper, venue: Venue | None) -> str:
    """The BibTeX text of one paper, as shown on its page."""
    return write_entries([paper_entry(paper, venue)]).strip() + "\n"
