"""`python -m tools add`: turn a citation into a new catalogue entry, catalog/papers/<id>.yaml.

Sources: BibTeX (`--bibtex FILE`, or `-` for standard input; one or many entries, as exported by DBLP,
Google Scholar, ACM, IEEE, Springer, arXiv or Semantic Scholar), an arXiv ID (`--arxiv`, through the
`arxiv` client) or a DOI (`--doi`, through Crossref with `habanero`).

What it does, in order:
1. Read every citation into a `Draft` (title, authors, year, venue, DOI, arXiv ID, URL). BibTeX goes
   through bibtexparser's middlewares: @string and month macros, LaTeX accents to Unicode, braces that
   protect case removed, "Last, First" and "First Last" names, `and others` dropped with a note.
2. Map the venue text onto catalog/venues.yaml: the longest venue name, short name or known alias
   found in it wins. Nothing found: the venue stays unfilled and a new venue entry is proposed (never
   written: venues are reviewed by people).
3. Refuse a duplicate of an existing entry (same DOI, same arXiv ID, or a near-identical title,
   `tools.catalog.find_title_duplicates`) and say which one.
4. Make an ID by the convention (first author's family name + year + keyword) that collides with no
   file, and write the file with every field it could fill; the fields only a person can fill (kind,
   facets, datasets, metrics, tldr) are commented placeholders listing the allowed terms.
5. Never overwrite: files are created with mode "x". A batch with a malformed or hostile entry writes
   nothing; every filled field is validated with the `Paper` model before anything is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import logging
import re
import sys
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tools import fingerprint, screened, yamlio
from tools.catalog import Catalog, find_title_duplicates, load_catalog, suggest, title_key
from tools.links import canonical_url
from tools.models import FACETS, PAPER_ID_PATTERN, Paper

MAX_BIBTEX_BYTES = 1_000_000  # a .bib export of hundreds of papers is ~200 KB
MAX_ENTRIES = 500
ARXIV_DELAY_S = 3.0  # arXiv's terms of use: at most one request every three seconds
ARXIV_RETRIES = 2
HTTP_TIMEOUT_S = 30
KINDS = ("attack", "defense", "survey", "benchmark", "tool", "analysis")

_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]*" + _ARXIV_ID, re.IGNORECASE)
_ARXIV_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/" + _ARXIV_ID)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\." + _ARXIV_ID + "$", re.IGNORECASE)
_BARE_ARXIV = re.compile("^" + _ARXIV_ID + "$")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
# URLs that say where a record was found, not where the paper is.
_NOT_LANDING = re.compile(
    r"^https?://(?:api\.semanticscholar\.org|scholar\.google\.|dblp\.org|www\.semanticscholar\.org)"
)


class AddError(Exception):
    """A problem the contributor must fix; the message says what and where. Nothing was written."""


@dataclass
class Draft:
    """What one citation told us about a paper, before it becomes a file."""

    origin: str  # where it came from, for messages: "refs.bib: entry 'zhu2019deep' (line 3)"
    title: str
    authors: list[str]
    family: str  # first author's family name (with particles), for the ID
    year: int | None = None
    venue: str | None = None  # a venue ID from catalog/venues.yaml, only when the mapping is certain
    venue_text: str = ""  # the venue as the source wrote it
    doi: str | None = None
    arxiv: str | None = None
    url: str | None = None
    notes: list[str] = field(default_factory=list)  # things the contributor should check or do
    new_venue: str = ""  # a proposed catalog/venues.yaml entry, when the venue is unknown
    abstract: str = ""  # the source's abstract: only its fingerprint is kept (tools/fingerprint.py), never the text


# --- small text helpers ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    """One line of text: whitespace (BibTeX line breaks included) collapsed."""
    return " ".join(str(value).split()) if value is not None else ""


_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "þ": "th",
        "œ": "oe",
        "Œ": "oe",
        "ı": "i",
    }
)


def strip_markup(value: Any) -> str:
    """Crossref titles carry JATS/MathML formatting (`<i>k</i>-NN`, `&amp;`): keep the text only."""
    return html.unescape(_text(re.sub(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>", "", str(value or ""))))


def _ascii_slug(text: str) -> str:
    """Lowercase ASCII letters and digits only: 'Dröge' -> 'droge', 'de la Fuente' -> 'delafuente'."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in folded if not unicodedata.combining(c)).lower())


def _norm(text: str) -> str:
    """Venue text for matching: braces gone, '&' as 'and', words separated by single spaces."""
    text = text.replace("{", "").replace("}", "").replace("&", " and ").casefold()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _split_name(name: str) -> tuple[str, str]:
    """('Given von Family Jr.', 'von Family') for one author, via bibtexparser's name rules."""
    from bibtexparser.middlewares.names import parse_single_name_into_parts

    parts = parse_single_name_into_parts(name, strict=False)
    return _text(parts.merge_first_name_first), " ".join(parts.von + parts.last)


# --- venues --------------------------------------------------------------------------------------

# Phrases that name a venue without containing its catalogue name or short name. The catalogue's own
# names and short names are matched directly, so only the exporters' other spellings belong here.
VENUE_ALIASES = {
    "advances in neural information processing systems": "neurips",
    "nips": "neurips",
    "neurips": "neurips",
    "corr": "arxiv",
    "arxiv": "arxiv",
    "ieee symposium on security and privacy sp": "sp",
    "usenix security": "usenix-security",
}


@dataclass
class VenueMatch:
    venue: str | None
    note: str = ""
    proposal: str = ""


def match_venue(raw: str, cat: Catalog, publisher: str = "", is_journal: bool = False) -> VenueMatch:
    """Find the catalogue venue a citation's venue text names; propose a new one when none fits."""
    text = raw.replace("{", "").replace("}", "")
    padded = f" {_norm(text)} "
    candidates: dict[str, int] = {}  # venue ID -> length of the longest phrase that matched it

    def hit(vid: str, length: int) -> None:
        candidates[vid] = max(candidates.get(vid, 0), length)

    for vid, venue in cat.venues.items():
        name = _norm(venue.name)
        if name and f" {name} " in padded:
            hit(vid, len(name))
        # Short names are matched case-sensitively as whole words: 'S&P' but not inside 'EuroS&P'.
        if re.search(rf"(?<![A-Za-z0-9&]){re.escape(venue.short)}(?![A-Za-z0-9&])", text):
            hit(vid, len(venue.short))
    for alias, vid in VENUE_ALIASES.items():
        if vid in cat.venues and f" {alias} " in padded:
            hit(vid, len(alias))
    if candidates:
        best = max(candidates.values())
        winners = sorted(v for v, n in candidates.items() if n == best)
        if len(winners) > 1:
            return VenueMatch(None, f"venue {raw!r} could be any of {', '.join(winners)}; set `venue:` yourself")
        vid = winners[0]
        if "workshop" in padded and cat.venues[vid].type != "workshop":
            return VenueMatch(
                None,
                f"venue {raw!r} is a workshop of {cat.venues[vid].short}; a workshop is its own "
                "venue: add it to catalog/venues.yaml",
                _propose_venue(raw, publisher, is_journal),
            )
        return VenueMatch(vid)
    names = {v.name: vid for vid, v in cat.venues.items()}
    said = suggest(_clean_venue_name(raw), names)
    closest = next((n for n in names if said and repr(n) in said), None)
    hint = f" (closest: {closest!r}, id {names[closest]})" if closest else ""
    return VenueMatch(
        None, f"venue {raw!r} is not in catalog/venues.yaml{hint}", _propose_venue(raw, publisher, is_journal)
    )


def _clean_venue_name(raw: str) -> str:
    """'Proceedings of the 26th {ACM} Conference on X (CONF '19), City, Country, May 1-3, 2019' -> 'ACM Conference on X'."""
    text = re.sub(r"\([^)]*\)", " ", raw.replace("{", "").replace("}", ""))
    segments = [s.strip() for s in text.split(", ")]
    kept = segments[:1]
    for segment in segments[1:]:  # DBLP appends ', ACRONYM YEAR, City, Country, dates': stop at the first number
        if re.search(r"\d", segment):
            break
        kept.append(segment)
    while len(kept) > 1 and len(kept[-1].split()) <= 2:  # trailing place names
        kept.pop()
    text = ", ".join(kept)
    text = re.sub(r"^\s*(?:in\s+)?(?:proceedings|proc\.)\s+(?:of\s+)?(?:the\s+)?", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(?:\d{4}|\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth)\b", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split()).strip(" -:,")


def _propose_venue(raw: str, publisher: str, is_journal: bool) -> str:
    """A venues.yaml entry to review and append: never written by this tool."""
    text = raw.replace("{", "").replace("}", "")
    acronym = re.search(r"\(([A-Z][A-Za-z&-]{1,15})(?:[\s'’-]*\d{2,4})?\)", text) or re.search(
        r"\b([A-Z][A-Z&-]{1,14})(?:[\s'’-]*\d{2,4})\b", text
    )
    name = _clean_venue_name(raw) or _text(raw)
    short = acronym.group(1) if acronym else "".join(w[0] for w in name.split() if w[0].isupper()) or name
    vid = re.sub(r"[^a-z0-9]+", "-", short.lower().replace("&", "")).strip("-") or "new-venue"
    kind = "workshop" if "workshop" in name.lower() else ("journal" if is_journal else "conference")
    lines = [f"  - id: {vid}", f'    short: "{short}"', f'    name: "{name}"', f"    type: {kind}"]
    if publisher:
        lines.append(f'    publisher: "{_text(publisher)}"')
    return "\n".join(lines)


# --- reading citations -----------------------------------------------------------------------------


def _arxiv_id(*texts: str | None) -> str | None:
    for value in texts:
        if not value:
            continue
        for pattern in (_ARXIV_IN_URL, _ARXIV_IN_TEXT):
            found = pattern.search(value)
            if found:
                return found.group(1)
    return None


def _bare_doi(value: str | None) -> str | None:
    if not value:
        return None
    found = _DOI.search(_text(value))
    return found.group(0).rstrip(".,;") if found else None


def _check_names(draft: Draft) -> None:
    for name in draft.authors:
        if re.search(r"(?:^|\s)[A-Z]\.(?:\s|$)", name) and not re.search(r"[a-z]{2,}\s+[A-Z]\.\s+[A-Za-z]{2,}", name):
            draft.notes.append(f"author {name!r} has an abbreviated given name: write it in full, as in the paper")
    words = re.findall(r"[A-Za-z][\w'-]*", draft.title)
    if (
        len(words) >= 4
        and all(w[0].islower() for w in words[1:])
        and not any(w.isupper() and len(w) > 1 for w in words)
    ):
        draft.notes.append(
            "title is all lower case after the first word (Google Scholar exports it so): "
            "check the casing against the paper"
        )


def _draft_from_entry(entry: Any, origin: str, cat: Catalog) -> Draft:
    fields = {f.key.lower(): f.value for f in entry.fields}
    where = f"{origin}: entry {entry.key!r} (line {entry.start_line + 1})"
    title = _text(fields.get("title")).rstrip(".")
    if not title:
        raise AddError(f"{where}: no title; export the entry again with its title")
    names = fields.get("author") or []
    if not names:
        raise AddError(f"{where}: no author field; every catalogue entry needs its authors")
    authors, notes = [], []
    for parts in names:
        display = _text(parts.merge_first_name_first)
        if display.lower() == "others":
            notes.append("the author list ends with 'and others': add the remaining authors from the paper")
            continue
        authors.append(display)
    if not authors:
        raise AddError(f"{where}: no author names, only 'others'")
    first = names[0]
    draft = Draft(where, title, authors, " ".join(first.von + first.last), notes=notes)
    draft.abstract = _text(fields.get("abstract"))

    year_text = _text(fields.get("year")) or _text(fields.get("date"))[:4]
    if year_text:
        if not re.fullmatch(r"\d{4}", year_text):
            raise AddError(f"{where}: year {year_text!r} is not a year; write four digits, e.g. 2021")
        draft.year = int(year_text)

    journal = _text(fields.get("journal") or fields.get("journaltitle"))
    booktitle = _text(fields.get("booktitle"))
    prefix = _text(fields.get("archiveprefix") or fields.get("eprinttype")).lower()
    eprint = _text(fields.get("eprint"))
    volume = _text(fields.get("volume"))
    doi = _bare_doi(fields.get("doi"))
    draft.arxiv = (
        (
            re.sub(r"v\d+$", "", eprint)
            if eprint and (prefix == "arxiv" or not prefix) and _BARE_ARXIV.match(eprint)
            else None
        )
        or _arxiv_id(journal, _text(fields.get("url")), _text(fields.get("note")))
        or (volume.removeprefix("abs/") if volume.startswith("abs/") and _BARE_ARXIV.match(volume[4:]) else None)
    )
    if doi and _ARXIV_DOI.match(doi):  # arXiv's own DataCite DOI names the preprint, not a publication
        draft.arxiv = draft.arxiv or _ARXIV_DOI.match(doi).group(1)
        doi = None
    draft.doi = doi

    draft.venue_text = booktitle or journal
    preprint = not draft.venue_text or re.search(r"\barxiv\b|^corr$", draft.venue_text, re.IGNORECASE)
    if preprint and draft.arxiv:
        draft.venue = "arxiv" if "arxiv" in cat.venues else None
        draft.notes.append(
            "venue set to arxiv: if the paper was published at a peer-reviewed venue, cite that "
            "version (venue, year, DOI) instead"
        )
    elif draft.venue_text:
        match = match_venue(
            draft.venue_text, cat, _text(fields.get("publisher")), entry.entry_type.lower() == "article"
        )
        draft.venue = match.venue
        if match.note:
            draft.notes.append(match.note)
        draft.new_venue = match.proposal
    else:
        draft.notes.append("the entry names no venue (journal or booktitle): set `venue:` yourself")

    url = _text(fields.get("url"))
    if url and not _NOT_LANDING.match(url):
        draft.url = canonical_url(url)
    elif draft.doi:
        draft.url = f"https://doi.org/{draft.doi}"
    elif draft.arxiv:
        draft.url = f"https://arxiv.org/abs/{draft.arxiv}"
    _check_names(draft)
    return draft


def _failure_reason(block: Any) -> str:
    kind = type(block).__name__
    if kind == "DuplicateBlockKeyBlock":
        return f"the key {getattr(block, 'key', '?')!r} is used twice; give each entry its own key"
    if kind == "MiddlewareErrorBlock":
        return f"LaTeX in a field could not be decoded ({block.error}); simplify that field"
    return "BibTeX syntax error (an unclosed brace or quote, or a missing comma?)"


def drafts_from_bibtex(text: str, origin: str, cat: Catalog) -> list[Draft]:
    """Every entry of a BibTeX text as a Draft; any malformed entry stops the whole batch."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BIBTEX_BYTES:
        raise AddError(f"{origin}: more than {MAX_BIBTEX_BYTES:,} bytes; split it into smaller files")
    if "\x00" in text:
        raise AddError(f"{origin}: contains a NUL byte; this is not a BibTeX text file")
    import bibtexparser
    from bibtexparser import middlewares as m

    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # failures are reported below, once
    stack = [
        m.ResolveStringReferencesMiddleware(True),  # @string macros first, while values still carry quotes
        m.RemoveEnclosingMiddleware(True),
        m.MonthIntMiddleware(True),
        m.LatexDecodingMiddleware(True, keep_braced_groups=False, keep_math_mode=False),
        m.SeparateCoAuthors(True),
        m.SplitNameParts(True),
    ]
    try:
        library = bibtexparser.parse_string(text, parse_stack=stack)
    except RecursionError:
        raise AddError(f"{origin}: braces nested too deeply to be a citation") from None
    except Exception as exc:  # noqa: BLE001 - a third-party parser on untrusted text: report, never a traceback
        raise AddError(f"{origin}: could not be read as BibTeX ({exc.__class__.__name__}: {exc})") from None
    problems = [f"{origin}: line {b.start_line + 1}: {_failure_reason(b)}" for b in library.failed_blocks]
    if problems:
        raise AddError("\n".join(problems))
    if not library.entries:
        raise AddError(f"{origin}: no BibTeX entries found (expected @article{{...}}, @inproceedings{{...}}, ...)")
    if len(library.entries) > MAX_ENTRIES:
        raise AddError(f"{origin}: {len(library.entries)} entries; add at most {MAX_ENTRIES} at a time")
    return [_draft_from_entry(entry, origin, cat) for entry in library.entries]


def _network_error(service: str, exc: Exception, fallback: str) -> AddError:
    return AddError(
        f"cannot reach {service} ({exc.__class__.__name__}); check your network connection and try again, or {fallback}"
    )


def draft_from_arxiv(arxiv_id: str, cat: Catalog) -> Draft:
    """Ask the arXiv API (through the `arxiv` client) for one paper."""
    bare = re.sub(r"^(?:arxiv:|https?://arxiv\.org/(?:abs|pdf)/)", "", arxiv_id.strip(), flags=re.IGNORECASE)
    found = _BARE_ARXIV.match(bare.removesuffix(".pdf"))
    if not found:
        raise AddError(f"{arxiv_id!r} is not an arXiv ID; write it like 2001.02610")
    bare = found.group(1)
    import arxiv
    import requests

    client = arxiv.Client(page_size=1, delay_seconds=ARXIV_DELAY_S, num_retries=ARXIV_RETRIES)
    try:
        results = list(client.results(arxiv.Search(id_list=[bare], max_results=1)))
    except requests.exceptions.RequestException as exc:
        raise _network_error(
            "the arXiv API (export.arxiv.org)", exc, "save the BibTeX from the paper's arXiv page and use --bibtex"
        ) from None
    except arxiv.HTTPError as exc:
        raise AddError(f"the arXiv API answered HTTP {exc.status} for {bare}; try again later") from None
    except arxiv.ArxivError as exc:
        raise AddError(f"the arXiv API gave no usable answer for {bare} ({exc.message}); try again later") from None
    results = [r for r in results if "/abs/" in r.entry_id]  # the API reports errors as fake entries
    if not results:
        raise AddError(f"arXiv has no paper {bare}; check the ID")
    result = results[0]
    authors = [_split_name(a.name) for a in result.authors]
    if not authors:
        raise AddError(f"the arXiv record of {bare} lists no authors")
    draft = Draft(
        f"arXiv {bare}",
        _text(result.title),
        [display for display, _ in authors],
        authors[0][1],
        year=result.published.year,
        venue="arxiv" if "arxiv" in cat.venues else None,
        arxiv=bare,
        url=f"https://arxiv.org/abs/{bare}",
        abstract=_text(result.summary),
    )
    published = " ".join(filter(None, [_text(result.journal_ref), _text(result.comment)]))
    hint = match_venue(published, cat).venue if published else None
    journal_doi = _bare_doi(result.doi)
    if journal_doi:  # published: the entry should cite that version, whose venue and year Crossref knows
        draft.notes.append(
            f"arXiv links this preprint to DOI {journal_doi}: it was published, so cite that version instead: "
            f"delete this file and run python -m tools add --doi {journal_doi}"
        )
    elif hint and hint != "arxiv":
        draft.notes.append(
            f"arXiv says {published!r}: if it appeared at {cat.venues[hint].short}, set "
            f"`venue: {hint}` and that version's year and DOI (or run: --doi <its DOI>)"
        )
    else:
        draft.notes.append("venue set to arxiv: if the paper was published at a peer-reviewed venue, cite that version")
    _check_names(draft)
    return draft


def draft_from_doi(doi: str, cat: Catalog) -> Draft:
    """Ask Crossref (through `habanero`) for one DOI."""
    bare = _bare_doi(doi)
    if not bare:
        raise AddError(f"{doi!r} is not a DOI; a DOI looks like 10.1145/3319535.3354261")
    if _ARXIV_DOI.match(bare):
        return draft_from_arxiv(_ARXIV_DOI.match(bare).group(1), cat)
    import httpx2
    from habanero import Crossref
    from habanero.exceptions import RequestError

    try:
        answer = Crossref(ua_string="mi-catalogue tools-add", timeout=HTTP_TIMEOUT_S).works(ids=bare)
    except httpx2.HTTPStatusError as exc:
        status = exc.response.status_code
        if status == 404:
            raise AddError(
                f"Crossref has no record of DOI {bare}: check it; DOIs registered elsewhere (DataCite: "
                "arXiv, Zenodo) need --arxiv or --bibtex"
            ) from None
        raise AddError(f"Crossref answered HTTP {status} for {bare}; try again later") from None
    except RequestError as exc:
        raise AddError(f"Crossref refused the request for {bare} ({exc}); try again later") from None
    except httpx2.TransportError as exc:
        raise _network_error(
            "Crossref (api.crossref.org)", exc, "use --bibtex with the publisher's BibTeX export"
        ) from None
    work = answer.get("message") if isinstance(answer, dict) else None
    if not isinstance(work, dict):
        raise AddError(f"Crossref's answer for {bare} is not a work record; try --bibtex instead")
    title = strip_markup((work.get("title") or [""])[0])
    people = [a for a in work.get("author") or [] if isinstance(a, dict)]
    names = [
        (
            strip_markup(f"{a.get('given', '')} {a.get('family', '')}") or strip_markup(a.get("name")),
            strip_markup(a.get("family") or a.get("name")),
        )
        for a in people
    ]
    names = [(display, fam) for display, fam in names if display]
    if not title or not names:
        raise AddError(f"Crossref's record of {bare} has no title or no authors; use --bibtex instead")
    year = None
    for key in ("published-print", "published-online", "published", "issued"):
        parts = (work.get(key) or {}).get("date-parts") or [[None]]
        if parts and parts[0] and parts[0][0]:
            year = int(parts[0][0])
            break
    draft = Draft(
        f"DOI {bare}",
        title,
        [d for d, _ in names],
        names[0][1],
        year=year,
        doi=_text(work.get("DOI")) or bare,
        abstract=strip_markup(work.get("abstract")),  # JATS XML when the publisher deposited one
    )
    primary = ((work.get("resource") or {}).get("primary") or {}).get("URL")
    draft.url = canonical_url(primary) if primary else f"https://doi.org/{draft.doi}"
    container = _text((work.get("container-title") or [""])[0]) or _text((work.get("event") or {}).get("name"))
    if container:
        match = match_venue(container, cat, _text(work.get("publisher")), work.get("type") == "journal-article")
        draft.venue, draft.venue_text, draft.new_venue = match.venue, container, match.proposal
        if match.note:
            draft.notes.append(match.note)
    else:
        draft.notes.append("Crossref names no journal or proceedings: set `venue:` yourself")
    _check_names(draft)
    return draft


# --- checks against the catalogue -------------------------------------------------------------------


def existing_papers(root: Path, cat: Catalog) -> dict[str, tuple[str | None, str | None, str]]:
    """ID -> (DOI, arXiv ID, title) of every paper file, including ones still being filled in (invalid)."""
    known = {pid: (p.doi, p.arxiv, p.title) for pid, p in cat.papers.items()}
    for path in sorted((root / "catalog" / "papers").glob("*.yaml")):
        if path.stem in known:
            continue
        try:
            data = yamlio.load(path).data
        except (yamlio.YamlError, OSError):
            continue  # unreadable: `validate` reports it; its ID is still taken (see add_drafts)
        if isinstance(data, dict):
            values = [data.get(k) if isinstance(data.get(k), str) else None for k in ("doi", "arxiv", "title")]
            known[path.stem] = (values[0], values[1], values[2] or "")
    return known


def find_duplicate(
    draft: Draft, existing: dict[str, tuple[str | None, str | None, str]], batch: dict[str, Draft]
) -> str | None:
    """The catalogue entry (or earlier entry of this batch) that is the same paper, with the reason."""
    papers = {pid: (doi, arx, title, f"catalog/papers/{pid}.yaml") for pid, (doi, arx, title) in existing.items()}
    papers.update({pid: (d.doi, d.arxiv, d.title, f"{d.origin} (earlier in this batch)") for pid, d in batch.items()})
    for doi, arxiv_id, _, where in papers.values():
        if draft.doi and doi and draft.doi.lower() == doi.lower():
            return f"same DOI {draft.doi} as {where}"
        if draft.arxiv and arxiv_id and draft.arxiv == arxiv_id:
            return f"same arXiv ID {draft.arxiv} as {where}"
    new = "\x00new"  # a key no real ID can take
    titles = {pid: t for pid, (_, _, t, _) in papers.items()}
    titles[new] = draft.title
    for a, b, score in find_title_duplicates(titles):
        if new in (a, b):
            return f"title is near-identical ({score:.0f}%) to {papers[b if a == new else a][3]}"
    return None


def _keywords(title: str) -> list[str]:
    """Keyword candidates for the ID: a one-word method name before a colon, else the title's first words."""
    stop = {
        "a",
        "an",
        "the",
        "on",
        "of",
        "for",
        "in",
        "to",
        "and",
        "with",
        "via",
        "from",
        "by",
        "is",
        "are",
        "how",
        "what",
        "towards",
        "toward",
        "through",
        "using",
        "against",
        "at",
        "do",
        "does",
        "can",
        "it",
        "as",
        "we",
        "into",
        "when",
        "not",
        "your",
        "our",
        "its",
    }
    head = re.split(r":|\s[-–—]+\s", title, maxsplit=1)[0]
    words = [_ascii_slug(w) for w in re.findall(r"[\w-]+", title)]
    words = [w for w in words if w and w not in stop]
    out = []
    if ":" in title and len(head.split()) == 1 and _ascii_slug(head):
        out.append(_ascii_slug(head))
    out += words[:1]
    if len(words) > 1:
        out.append(f"{words[0]}-{words[1]}")
    return list(dict.fromkeys(out)) or ["paper"]


def make_id(draft: Draft, taken: set[str], keyword: str | None = None) -> str:
    """First author's family name + year + keyword; a longer keyword or a number if that is taken."""
    family = _ascii_slug(draft.family)
    if not family or not family[0].isalpha():
        raise AddError(
            f"{draft.origin}: cannot make an ID from the first author's name {draft.family!r}; "
            "give one with --id (e.g. --id wang2024keyword)"
        )
    if draft.year is None:
        raise AddError(f"{draft.origin}: no year; the ID and the entry need the year of the version cited")
    year = draft.year
    keywords = [_ascii_slug(keyword)] if keyword else _keywords(draft.title)
    candidates = [f"{family}{year:04d}{k}" for k in keywords]
    candidates += [f"{candidates[0]}-{n}" for n in range(2, 100)]
    lowered = {t.lower() for t in taken}
    for candidate in candidates:
        if candidate.lower() not in lowered and re.match(PAPER_ID_PATTERN, candidate):
            return candidate
    raise AddError(f"{draft.origin}: no free ID starting {candidates[0]!r}; give one with --id")


# --- writing -------------------------------------------------------------------------------------------


def _scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly this string: plain when safe, else double-quoted."""
    import yaml

    try:
        plain_ok = yaml.safe_load(value) == value and not value.startswith(("'", '"', "-", "?", "!", "&", "*", "%"))
    except yaml.YAMLError:
        plain_ok = False
    return value if plain_ok and "#" not in value and ": " not in value else json.dumps(value, ensure_ascii=False)


def _comment_wrap(text: str, prefix: str = "#   ") -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=prefix, subsequent_indent=prefix, break_on_hyphens=False)


def render(draft: Draft, pid: str, cat: Catalog, today: dt.date, kind: str | None = None) -> tuple[str, list[str]]:
    """The new file's text and the list of fields still to fill."""
    title = json.dumps(draft.title, ensure_ascii=False)  # always quoted, like the hand-written entries
    lines = ["# yaml-language-server: $schema=../schema/paper.schema.json", f"id: {pid}", f"title: {title}", "authors:"]
    lines += [f"  - {_scalar(a)}" for a in draft.authors]
    todo: list[str] = []

    def required(name: str, value: str | None, hint: str) -> None:
        if value is None:
            lines.extend(_comment_wrap(f"{name}: {hint}"))
            lines.append(f"# {name}:")
            todo.append(name)
        else:
            lines.append(f"{name}: {value}")

    required("year", str(draft.year) if draft.year else None, "year of the version cited (four digits)")
    required("venue", draft.venue, "a venue ID from catalog/venues.yaml (see the message printed by `tools add`)")
    if draft.doi:
        lines.append(f"doi: {_scalar(draft.doi)}")
    if draft.arxiv:
        lines.append(f'arxiv: "{draft.arxiv}"')  # quoted: 2001.02610 would read as a number
    required(
        "url",
        _scalar(draft.url) if draft.url else None,
        "the paper's landing page (publisher, proceedings, OpenReview or arXiv abs page), not a PDF",
    )
    lines.append("# Still to fill: for each field below, uncomment its last line (delete '# ') and complete it.")
    lines.extend(_comment_wrap("code: the official repository root URL(s), if there is one"))
    lines.append("# code: []")
    required("kind", kind, f"what the paper contributes: one of {', '.join(KINDS)}")
    terms = cat.terms
    facet_help = {
        "attack_family": "needed when kind is attack",
        "defense_family": "needed when kind is defense",
        "modality": "the data the paper works on",
        "setting": "where the attack or defense happens",
        "knowledge": "for attacks: what the attacker accesses; for defenses: the attacker they stop",
        "seed_section": "ONLY for papers listed in the seed survey's repository: its section",
    }
    for facet in FACETS:
        lines.extend(
            _comment_wrap(
                f"{facet} ({facet_help[facet]}), terms from catalog/taxonomy.yaml: " + ", ".join(terms.get(facet, {}))
            )
        )
        lines.append(f"# {facet}: []")
    todo += ["attack_family or defense_family", "modality", "setting", "knowledge"]
    for name, known, where in (
        ("datasets", cat.datasets, "catalog/datasets/"),
        ("metrics", cat.metrics, "catalog/metrics/"),
    ):
        listing = ", ".join(sorted(known)) or "(none yet)"
        lines.extend(_comment_wrap(f"{name}: IDs from {where} the paper evaluates on / reports: {listing}"))
        lines.append(f"# {name}: []")
        todo.append(name)
    lines.extend(
        _comment_wrap(
            "listed_in: public lists that mention the paper, IDs from catalog/lists.yaml: "
            + (", ".join(cat.lists) or "(none yet)")
        )
    )
    lines.append("# listed_in: []")
    lines.extend(
        _comment_wrap(
            "tldr: one to three sentences IN YOUR OWN WORDS: what the paper does and what it "
            "finds (never the abstract; at most 600 characters)"
        )
    )
    lines += ["# tldr: >-", "#   ..."]
    todo += ["code (if any)", "tldr (your own words)"]
    lines.append(f"added: {today.isoformat()}")
    return "\n".join(lines) + "\n", todo


# Stand-ins for what a person must still fill, so the filled fields can be validated now.
_STAND_INS = {"year": 2000, "venue": "arxiv", "url": "https://example.org/", "kind": "survey", "tldr": "stand-in"}


def _validate(text: str, draft: Draft) -> None:
    """Parse the text we are about to write and validate its fields with the Paper model."""
    try:
        data = yamlio.parse(text).data
    except yamlio.YamlError as exc:
        raise AddError(f"{draft.origin}: the entry would not be valid YAML ({exc.message}); check its fields") from None
    if data.get("title") != draft.title or data.get("authors") != draft.authors:
        raise AddError(f"{draft.origin}: title or authors do not survive YAML quoting; simplify them")
    try:
        Paper.model_validate({**_STAND_INS, **data})
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        raise AddError(f"{draft.origin}: {reasons}") from None


@dataclass
class Outcome:
    written: list[tuple[Path, Draft, list[str], str]] = field(default_factory=list)  # path, draft, to fill, text
    refused: list[tuple[Draft, str]] = field(default_factory=list)
    fingerprinted: list[str] = field(default_factory=list)  # IDs whose source abstract was fingerprinted


def screened_notes(draft: Draft, rows: list[screened.Screened]) -> list[str]:
    """What to do when catalog/coverage/screened.tsv already lists this paper as left out."""
    key = title_key(draft.title)
    notes = []
    for row in rows:
        if not ((draft.arxiv and row.arxiv == draft.arxiv) or title_key(row.title) == key):
            continue
        where = f"{screened.TABLE} line {row.line}"
        if row.verdict == "out-of-scope":
            notes.append(
                f"{where} screened this paper out of scope ({row.reason}); `validate` refuses it until that "
                "line is deleted: delete it only if you disagree, and say why in the pull request"
            )
        else:
            notes.append(f"{where} lists this paper as not yet verified: delete that line")
    return notes


def add_drafts(
    drafts: list[Draft],
    root: Path,
    cat: Catalog,
    *,
    kind: str | None = None,
    keyword: str | None = None,
    pid: str | None = None,
    today: dt.date | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Check every draft, then write the new ones. Any invalid draft stops the batch before writing."""
    today = today or dt.date.today()
    folder = root / "catalog" / "papers"
    taken = {p.stem for p in folder.glob("*.yaml")} | set(cat.papers)
    existing = existing_papers(root, cat)
    screened_rows = screened.read(root)[0]
    outcome = Outcome()
    planned: dict[str, Draft] = {}
    texts: dict[str, str] = {}
    todos: dict[str, list[str]] = {}
    for draft in drafts:
        duplicate = find_duplicate(draft, existing, planned)
        if duplicate:
            outcome.refused.append((draft, duplicate))
            continue
        if pid:
            if not re.match(PAPER_ID_PATTERN, pid):
                raise AddError(f"--id {pid!r} does not follow the convention familyYEARkeyword, e.g. zhu2019dlg")
            if pid.lower() in {t.lower() for t in taken}:
                raise AddError(f"--id {pid!r} is taken: catalog/papers/{pid}.yaml exists")
            new_id = pid
        else:
            new_id = make_id(draft, taken, keyword)
        texts[new_id], todos[new_id] = render(draft, new_id, cat, today, kind)
        todos[new_id] += screened_notes(draft, screened_rows)
        _validate(texts[new_id], draft)
        taken.add(new_id)
        planned[new_id] = draft
    for new_id, draft in planned.items():
        path = folder / f"{new_id}.yaml"
        if not dry_run:
            folder.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as handle:  # "x": fails rather than overwrite
                handle.write(texts[new_id])
        outcome.written.append((path, draft, todos[new_id], texts[new_id]))
    _record_abstracts(planned, root, today, outcome, dry_run)
    return outcome


def _record_abstracts(planned: dict[str, Draft], root: Path, today: dt.date, outcome: Outcome, dry_run: bool) -> None:
    """Fingerprint the abstracts the sources gave, so `validate` rejects a tldr that copies one.

    The contributor writes the tldr after this; the check then runs on every validate, offline.
    """
    with_abstract = {pid: d for pid, d in planned.items() if len(fingerprint.words(d.abstract)) >= 3 * fingerprint.RUN}
    if not with_abstract:
        return
    outcome.fingerprinted = sorted(with_abstract)
    if dry_run:
        return
    rows = fingerprint.read_table(root)
    for pid, draft in with_abstract.items():
        hashes = " ".join(fingerprint.fingerprint(draft.abstract))
        rows[pid] = {"paper": pid, "checked": today.isoformat(), "hashes": hashes}
    fingerprint.write_table(root, rows)


# --- command line ----------------------------------------------------------------------------------------


def _read_bibtex(source: str) -> tuple[str, str]:
    if source == "-":
        data, origin = sys.stdin.buffer.read(MAX_BIBTEX_BYTES + 1), "<stdin>"
    else:
        path = Path(source)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BIBTEX_BYTES + 1)
        except OSError as exc:
            raise AddError(f"{source}: cannot read ({exc.strerror})") from None
        origin = source
    if len(data) > MAX_BIBTEX_BYTES:
        raise AddError(f"{origin}: more than {MAX_BIBTEX_BYTES:,} bytes; split it into smaller files")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AddError(f"{origin}: not UTF-8 text (byte {exc.start}); save the export as UTF-8") from None
    return text, origin


def run(args: argparse.Namespace) -> int:
    """The `add` verb: print what was written, what was refused and what is left to fill."""
    root = Path(args.root)
    try:
        if args.kind is not None and args.kind not in KINDS:
            raise AddError(
                f"--kind {args.kind!r} is not allowed; use one of {', '.join(KINDS)}{suggest(args.kind, KINDS)}"
            )
        cat = load_catalog(root)
        if args.bibtex is not None:
            text, origin = _read_bibtex(args.bibtex)
            drafts = drafts_from_bibtex(text, origin, cat)
        elif args.arxiv is not None:
            drafts = [draft_from_arxiv(args.arxiv, cat)]
        else:
            drafts = [draft_from_doi(args.doi, cat)]
        if (args.keyword or args.id) and len(drafts) > 1:
            raise AddError("--keyword and --id name one paper; the BibTeX holds several entries")
        outcome = add_drafts(drafts, root, cat, kind=args.kind, keyword=args.keyword, pid=args.id, dry_run=args.dry_run)
    except AddError as exc:
        print(f"error: {exc}\nnothing was written", file=sys.stderr)
        return 1
    for draft, reason in outcome.refused:
        print(f"refused {draft.origin}: {draft.title!r} is already in the catalogue: {reason}", file=sys.stderr)
    for path, draft, todo, text in outcome.written:
        rel = path.relative_to(root).as_posix()
        print(f"{'would write' if args.dry_run else 'wrote'} {rel} from {draft.origin}")
        if args.dry_run:
            print(textwrap.indent(text, "  | "), end="")
        print(f"  still to fill: {', '.join(todo)}")
        for note in draft.notes:
            print(f"  check: {note}")
        if draft.new_venue:
            print(
                "  proposed venue (check the name, then append it and set `venue:` to its id):\n"
                "    cat >> catalog/venues.yaml <<'EOF'\n" + textwrap.indent(draft.new_venue, "    ") + "\n    EOF"
            )
    if outcome.fingerprinted:
        print(
            f"{'would record' if args.dry_run else 'recorded'} the abstract's fingerprint of "
            f"{', '.join(outcome.fingerprinted)} in {fingerprint.TABLE} (commit it too): validate rejects a "
            "tldr that shares a 7-word run with the abstract"
        )
    if outcome.written and not args.dry_run:
        print("then check the entries: python -m tools validate && python -m tools links --offline")
    return 1 if outcome.refused else 0
