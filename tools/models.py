"""The catalogue's record types: what a valid file looks like on its own.

Per-file rules live here (types, closed vocabularies, formats, unknown keys refused). Rules that need
the whole catalogue (does this venue exist? is this paper a duplicate?) live in `tools.catalog`.
Every field has a description: it feeds the JSON Schema that editors use and the contributor docs.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
PAPER_ID_PATTERN = r"^[a-z][a-z0-9]*[0-9]{4}[a-z0-9-]*$"
_ID_RE = re.compile(ID_PATTERN)
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
# New-style arXiv IDs (2007 onward) without version, or old-style archive/YYMMNNN.
_ARXIV_RE = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})$")
# Characters that change how text is displayed without being visible: bidirectional overrides and
# zero-width characters. They let a title look like another one, so they are refused outright.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s")
_URL_UNSAFE = re.compile(r"[\"'<>{}|\\^`]")
# Catalogue text is plain text. Markup and template syntax have no legitimate use in it and are the
# first thing a hostile pull request tries, so they are refused here, before any page is generated
# (the site escapes everything as well; this is the second lock).
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?]")
_TEMPLATE = re.compile(r"\{\{|\{%|\{#")


def _clean_text(value: str) -> str:
    if _INVISIBLE.search(value):
        raise ValueError("contains an invisible or bidirectional control character; delete it")
    if _CONTROL.search(value):
        raise ValueError("contains a control character; delete it")
    if _HTML_TAG.search(value):
        raise ValueError("looks like an HTML tag ('<' followed by a letter); write plain text (e.g. 'less than')")
    if _TEMPLATE.search(value):
        raise ValueError("contains template syntax ('{{', '{%' or '{#'); remove it")
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _one_line(value: str) -> str:
    if "\n" in value.strip():
        raise ValueError("must be a single line")
    return value


def _url(value: str) -> str:
    if _SPACE.search(value):
        raise ValueError(f"{value!r} contains whitespace; remove it")
    if _URL_UNSAFE.search(value):
        raise ValueError(f"{value!r} contains a character URLs must percent-encode (quotes, <, >, braces, backslash)")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL; write the full https://... address")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError(f"{value!r} carries credentials; remove the user:password@ part")
    return value


def _doi(value: str) -> str:
    if value.lower().startswith(("https://doi.org/", "http://doi.org/", "doi:")):
        raise ValueError(f"{value!r}: write the bare DOI, e.g. 10.1145/3319535.3354261")
    if not _DOI_RE.match(value):
        raise ValueError(f"{value!r} is not a DOI; a DOI looks like 10.1145/3319535.3354261")
    return value


def _arxiv(value: str) -> str:
    if re.search(r"v\d+$", value) and _ARXIV_RE.match(re.sub(r"v\d+$", "", value)):
        raise ValueError(f"{value!r}: drop the version suffix, write {re.sub(r'v[0-9]+$', '', value)!r}")
    if not _ARXIV_RE.match(value):
        raise ValueError(f"{value!r} is not an arXiv ID; write it like 2001.02610 (no 'arXiv:' prefix)")
    return value


def _unique(values: list) -> list:
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{v!r} is listed twice")
        seen.add(v)
    return values


Text = Annotated[str, AfterValidator(_clean_text)]
Line = Annotated[str, AfterValidator(_clean_text), AfterValidator(_one_line)]
Url = Annotated[str, AfterValidator(_url)]
Doi = Annotated[str, AfterValidator(_doi)]
Arxiv = Annotated[str, AfterValidator(_arxiv)]
RecordId = Annotated[str, Field(pattern=ID_PATTERN, max_length=80)]
# A reference to another record. No pattern here: the loader checks it against the vocabulary and can
# then say "did you mean 'cvpr'?" instead of only "wrong form".
Ref = Annotated[str, Field(min_length=1, max_length=80)]
TermList = Annotated[list[Ref], AfterValidator(_unique)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


Kind = Literal["attack", "defense", "survey", "benchmark", "tool", "analysis"]
Unverifiable = Literal["authors", "tldr"]
"""Required paper fields an entry may leave out, saying so in `unverified`, when no source confirms them:
an entry with a missing author list is more use than no entry, and a guessed one is worse than both."""


class Paper(Record):
    """One paper: catalog/papers/<id>.yaml."""

    id: Annotated[str, Field(pattern=PAPER_ID_PATTERN, max_length=80)] = Field(
        description="Stable ID, equal to the file name: first author's family name, year, keyword, "
        "lowercase, e.g. 'zhang2020gmi'.",
    )
    title: Line = Field(description="Title as published, in its original casing.")
    authors: list[Line] = Field(
        default_factory=list,
        description="Full author names in publication order, 'Given Family' (e.g. 'Yuheng Zhang'). "
        "Left out only when no source confirms them, with 'authors' in `unverified`.",
    )
    year: int = Field(ge=1990, le=2100, description="Year of the version cited (peer-reviewed if any).")
    venue: Ref = Field(description="Venue ID from catalog/venues.yaml; 'arxiv' for preprints.")
    doi: Doi | None = Field(default=None, description="DOI without the https://doi.org/ prefix.")
    arxiv: Arxiv | None = Field(default=None, description="arXiv identifier without version, e.g. 2001.02610.")
    url: Url = Field(description="Landing page of the paper (no session or tracking parameters).")
    code: Annotated[list[Url], AfterValidator(_unique)] = Field(
        default_factory=list, description="Official or notable code repositories."
    )
    kind: Kind = Field(description="What the paper contributes.")
    attack_family: TermList = Field(default_factory=list, description="Terms of the attack_family facet.")
    defense_family: TermList = Field(default_factory=list, description="Terms of the defense_family facet.")
    modality: TermList = Field(default_factory=list, description="Terms of the modality facet.")
    setting: TermList = Field(default_factory=list, description="Terms of the setting facet.")
    knowledge: TermList = Field(default_factory=list, description="Terms of the knowledge facet (attacker access).")
    seed_section: TermList = Field(
        default_factory=list,
        description="Section(s) of the seed survey repository that list this paper, exactly as it files them.",
    )
    datasets: TermList = Field(default_factory=list, description="Dataset IDs (catalog/datasets/) evaluated on.")
    metrics: TermList = Field(default_factory=list, description="Metric IDs (catalog/metrics/) reported.")
    implementation: Annotated[str, Field(pattern=r"^mi_ref\.[a-z_][a-z0-9_]*$")] | None = Field(
        default=None, description="The mi_ref module implementing this paper's idea, e.g. 'mi_ref.gmi'."
    )
    listed_in: TermList = Field(
        default_factory=list, description="Public paper lists that mention this paper (IDs from catalog/lists.yaml)."
    )
    tldr: Annotated[Text, Field(max_length=600)] | None = Field(
        default=None,
        description="One to three sentences in our own words: what it does and finds. Never an abstract. "
        "Left out only when no source gives what the paper does, with 'tldr' in `unverified`.",
    )
    unverified: Annotated[list[Unverifiable], AfterValidator(_unique)] = Field(
        default_factory=list,
        description="Required facts deliberately left out because no reachable source confirms them yet "
        "(the entry's other facts are checked). The site marks the gap and asks for a source.",
    )
    added: dt.date = Field(description="Date the entry was added to the catalogue (YYYY-MM-DD).")


class Reference(Record):
    """A work cited by a dataset or metric record (often outside the MI catalogue)."""

    title: Line = Field(description="Title of the work.")
    year: int | None = Field(default=None, ge=1900, le=2100, description="Publication year.")
    url: Url | None = Field(default=None, description="Landing page.")
    doi: Doi | None = Field(default=None, description="DOI without prefix.")
    paper: Ref | None = Field(default=None, description="Catalogue paper ID, if the work is in the catalogue.")


DatasetRole = Literal["private", "public-prior", "evaluation", "auxiliary", "benchmark"]


class Dataset(Record):
    """One dataset: catalog/datasets/<id>.yaml."""

    id: RecordId = Field(description="Stable ID, equal to the file name, e.g. 'celeba'.")
    name: Line = Field(description="Name as usually written, e.g. 'CelebA'.")
    modality: TermList = Field(min_length=1, description="Terms of the modality facet.")
    contents: Text = Field(description="What it contains: size, classes or identities, resolution.")
    roles: Annotated[list[DatasetRole], AfterValidator(_unique)] = Field(
        min_length=1,
        description="Usual role(s) in MI work: private (target's training set), public-prior (attacker's "
        "auxiliary/prior data), evaluation, auxiliary, benchmark.",
    )
    url: Url = Field(description="Official page.")
    licence: Line | None = Field(default=None, description="Licence or terms of use, where known.")
    reference: Reference | None = Field(default=None, description="The paper that introduced it.")


class Metric(Record):
    """One evaluation metric: catalog/metrics/<id>.yaml."""

    id: RecordId = Field(description="Stable ID, equal to the file name, e.g. 'psnr'.")
    name: Line = Field(description="Name as usually written, e.g. 'PSNR'.")
    measures: Text = Field(description="What it measures, in a sentence.")
    definition: Text = Field(description="Formula or precise definition (LaTeX between $...$ allowed).")
    direction: Literal["higher", "lower"] = Field(description="Which direction means a stronger attack / closer match.")
    range: Line = Field(description="Range of values, e.g. '[0, 1]' or '[0, inf) dB'.")
    reference: Reference | None = Field(default=None, description="Where it was introduced or defined.")
    implementation: Annotated[str, Field(pattern=r"^mi_ref\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")] | None = Field(
        default=None, description="The mi_ref function computing it, e.g. 'mi_ref.metrics.psnr'."
    )


class Venue(Record):
    """One entry of catalog/venues.yaml."""

    id: RecordId = Field(description="Stable ID, e.g. 'cvpr'.")
    short: Line = Field(description="Short name as usually written, e.g. 'CVPR'.")
    name: Line = Field(description="Full name.")
    type: Literal["conference", "journal", "workshop", "preprint", "book"] = Field(description="Kind of venue.")
    publisher: Line | None = Field(default=None, description="Publisher, e.g. 'IEEE', 'ACM', 'Springer'.")


class PaperList(Record):
    """One public paper list whose coverage we track: an entry of catalog/lists.yaml."""

    id: RecordId = Field(description="Stable ID, e.g. 'seed'.")
    name: Line = Field(description="Name of the list.")
    url: Url = Field(description="Where the list lives.")
    description: Text = Field(description="What the list covers.")


class Term(Record):
    """One taxonomy term."""

    id: RecordId = Field(description="Term ID, unique within its facet.")
    label: Line = Field(description="Human-readable label.")
    description: Line = Field(description="One-line description.")
    parent: Ref | None = Field(default=None, description="Parent term ID in the same facet.")


FACETS = ("attack_family", "defense_family", "modality", "setting", "knowledge", "seed_section")


class Facet(Record):
    """One facet of catalog/taxonomy.yaml."""

    id: Literal[FACETS] = Field(description="Facet ID; equals the paper field that uses it.")  # type: ignore[valid-type]
    label: Line = Field(description="Human-readable label.")
    description: Line = Field(description="One-line description.")
    terms: Annotated[list[Term], Field(min_length=1)] = Field(description="The controlled vocabulary.")


class Taxonomy(Record):
    """catalog/taxonomy.yaml."""

    facets: list[Facet] = Field(description="Every facet, each with its terms.")


class VenueFile(Record):
    """catalog/venues.yaml."""

    venues: list[Venue] = Field(description="Every venue papers may cite.")


class ListFile(Record):
    """catalog/lists.yaml."""

    lists: list[PaperList] = Field(description="Public paper lists tracked for coverage.")


# Record type per catalogue file or folder; used by the loader and the JSON Schema export.
SCHEMAS: dict[str, type[Record]] = {
    "paper": Paper,
    "dataset": Dataset,
    "metric": Metric,
    "venues": VenueFile,
    "lists": ListFile,
    "taxonomy": Taxonomy,
}

IS_ID = _ID_RE.match
