"""Load the whole catalogue, collect every problem, and check the rules that span files.

`load_catalog(root)` never raises on bad data: it returns a `Catalog` whose `problems` list says,
for each problem, the file, line, field and what to do. Every other tool (site, exports, `add`) starts
from a catalogue with no problems.
"""

from __future__ import annotations

import ast
import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rapidfuzz import fuzz, process

from tools import fingerprint, screened, yamlio
from tools.models import FACETS, Dataset, ListFile, Metric, Paper, Record, Taxonomy, VenueFile

ROOT = Path(__file__).resolve().parent.parent
# Reserved device names on Windows: a file named like this breaks a clone there.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
TITLE_NEAR_DUPLICATE = 95  # rapidfuzz ratio (0-100) above which two titles are "the same paper"


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


@dataclass
class Catalog:
    root: Path
    papers: dict[str, Paper] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    venues: dict[str, Any] = field(default_factory=dict)
    lists: dict[str, Any] = field(default_factory=dict)
    taxonomy: Taxonomy | None = None
    problems: list[Problem] = field(default_factory=list)
    # Line of each top-level field per file, so whole-catalogue errors can point at the line too.
    _lines: dict[str, yamlio.Document] = field(default_factory=dict, repr=False)
    # Raw data of paper files that failed their per-file checks (their references are still checked).
    _invalid_papers: dict[str, dict] = field(default_factory=dict, repr=False)

    @property
    def terms(self) -> dict[str, dict[str, Any]]:
        """facet ID -> term ID -> Term."""
        if self.taxonomy is None:
            return {f: {} for f in FACETS}
        return {f.id: {t.id: t for t in f.terms} for f in self.taxonomy.facets}

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def add(self, path: Path | str, line: int, field_name: str, message: str) -> None:
        self.problems.append(Problem(path if isinstance(path, str) else self.rel(path), line, field_name, message))

    def line(self, rel_path: str, loc: tuple) -> int:
        doc = self._lines.get(rel_path)
        return doc.line_of(loc) if doc else 1

    def summary(self) -> str:
        return (
            f"catalogue OK: {len(self.papers)} papers, {len(self.datasets)} datasets, {len(self.metrics)} metrics, "
            f"{len(self.venues)} venues, {sum(len(t) for t in self.terms.values())} taxonomy terms"
        )


def suggest(value: str, choices: Iterable[str]) -> str:
    """' did you mean 'x'?' for the closest choice, or '' when nothing is close."""
    choices = list(choices)
    if not choices or not isinstance(value, str):
        return ""
    lowered = {c.lower(): c for c in choices}
    if value.lower() in lowered:
        return f"; did you mean {lowered[value.lower()]!r}?"
    best = process.extractOne(value.lower(), list(lowered), scorer=fuzz.WRatio, score_cutoff=70)
    return f"; did you mean {lowered[best[0]]!r}?" if best else ""


# --- reading one file --------------------------------------------------------------------------


def _explain(error: dict, model: type[Record], data: Any) -> str:
    """Turn one pydantic error into a sentence that says what to do."""
    kind, loc, msg = error["type"], error["loc"], error["msg"]
    name = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        parent = model
        for part in loc[:-1]:  # walk nested models (e.g. reference) to suggest their fields
            info = parent.model_fields.get(part) if isinstance(part, str) else None
            ann = getattr(info, "annotation", None)
            candidates = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, Record)]
            if candidates:
                parent = candidates[0]
        return f"unknown field {name!r}{suggest(str(name), parent.model_fields)}; allowed: {', '.join(parent.model_fields)}"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        allowed = re.findall(r"'([^']*)'", expected)
        return f"{error.get('input')!r} is not allowed; use one of: {', '.join(allowed)}{suggest(str(error.get('input')), allowed)}"
    if kind == "string_pattern_mismatch":
        return f"{error.get('input')!r} has the wrong form; IDs are lowercase words joined by '-' (pattern {error['ctx']['pattern']})"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in {
        "int_parsing",
        "int_type",
        "string_type",
        "list_type",
        "date_from_datetime_parsing",
        "date_type",
        "model_type",
        "dict_type",
    }:
        return f"{msg.lower()} (got {error.get('input')!r})"
    return f"{msg} (got {error.get('input')!r})"


def _field_part(part: Any) -> str:
    """A location part as shown in messages: plain names as they are, anything odd quoted."""
    text = str(part)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else repr(text)


def _read_record(cat: Catalog, path: Path, model: type[Record]) -> tuple[Record | None, Any]:
    rel = cat.rel(path)
    try:
        doc = yamlio.load(path)
    except yamlio.YamlError as exc:
        cat.add(rel, exc.line, "(file)", exc.message)
        return None, None
    except OSError as exc:
        cat.add(rel, 0, "(file)", f"cannot read: {exc.strerror}")
        return None, None
    cat._lines[rel] = doc
    if not isinstance(doc.data, dict):
        cat.add(rel, 1, "(file)", f"must be a mapping of field: value, got {type(doc.data).__name__}")
        return None, doc.data
    try:
        return model.model_validate(doc.data), doc.data
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            field_name = ".".join(_field_part(p) for p in loc) or "(file)"
            cat.add(rel, doc.line_of(loc), field_name, _explain(error, model, doc.data))
        return None, doc.data


def _check_file_name(cat: Catalog, path: Path, record_id: Any) -> bool:
    rel = cat.rel(path)
    stem = path.stem
    if path.suffix != ".yaml":
        cat.add(rel, 0, "(file)", "catalogue records end in .yaml; rename the file")
        return False
    if stem.lower() in _RESERVED:
        cat.add(rel, 0, "(file)", f"{stem!r} is a reserved file name on Windows; choose another ID")
        return False
    if record_id is not None and record_id != stem:
        cat.add(
            rel, cat.line(rel, ("id",)), "id", f"{record_id!r} must equal the file name {stem!r}; rename one of them"
        )
        return False
    return True


def _load_folder(cat: Catalog, folder: str, model: type[Record], into: dict) -> None:
    base = cat.root / "catalog" / folder
    if not base.is_dir():
        return
    lowered: dict[str, Path] = {}
    for path in sorted(base.iterdir()):
        rel = cat.rel(path)
        if path.name.startswith("."):
            continue
        if path.is_symlink() or not path.is_file():
            cat.add(rel, 0, "(file)", "only plain .yaml files belong here; remove the link or folder")
            continue
        if path.stem.lower() in lowered:
            cat.add(
                rel,
                0,
                "(file)",
                f"differs from {cat.rel(lowered[path.stem.lower()])} only by case; "
                "file names must be unique ignoring case",
            )
            continue
        lowered[path.stem.lower()] = path
        record, data = _read_record(cat, path, model)
        record_id = data.get("id") if isinstance(data, dict) else None
        if not _check_file_name(cat, path, record_id):
            continue
        if record is not None:
            into[record.id] = record
        elif folder == "papers" and isinstance(data, dict):
            cat._invalid_papers[cat.rel(path)] = data


def _load_vocabulary(cat: Catalog, name: str, model: type[Record]) -> Record | None:
    path = cat.root / "catalog" / name
    if not path.exists():
        cat.add(f"catalog/{name}", 0, "(file)", "file is missing")
        return None
    record, _ = _read_record(cat, path, model)
    return record


# --- whole-catalogue rules -----------------------------------------------------------------------


def _check_vocabularies(cat: Catalog, venues: VenueFile | None, lists: ListFile | None, tax: Taxonomy | None) -> None:
    for label, file, items in (
        ("venues", "catalog/venues.yaml", venues.venues if venues else []),
        ("lists", "catalog/lists.yaml", lists.lists if lists else []),
    ):
        for i, item in enumerate(items):
            target = cat.venues if label == "venues" else cat.lists
            if item.id in target:
                cat.add(file, cat.line(file, (label, i, "id")), f"{label}.{i}.id", f"{item.id!r} is defined twice")
            target[item.id] = item
    if tax is None:
        return
    file = "catalog/taxonomy.yaml"
    seen_facets = [f.id for f in tax.facets]
    for missing in set(FACETS) - set(seen_facets):
        cat.add(file, 1, "facets", f"facet {missing!r} is missing")
    for fi, facet in enumerate(tax.facets):
        if seen_facets.count(facet.id) > 1 and seen_facets.index(facet.id) != fi:
            cat.add(
                file, cat.line(file, ("facets", fi, "id")), f"facets.{fi}.id", f"facet {facet.id!r} is defined twice"
            )
        ids = [t.id for t in facet.terms]
        for ti, term in enumerate(facet.terms):
            loc = ("facets", fi, "terms", ti)
            if ids.count(term.id) > 1 and ids.index(term.id) != ti:
                cat.add(
                    file, cat.line(file, loc + ("id",)), f"{facet.id}.{term.id}", "term is defined twice in this facet"
                )
            if term.parent is not None and term.parent not in ids:
                cat.add(
                    file,
                    cat.line(file, loc + ("parent",)),
                    f"{facet.id}.{term.id}.parent",
                    f"{term.parent!r} is not a term of facet {facet.id!r}{suggest(term.parent, ids)}",
                )
            if term.parent == term.id:
                cat.add(
                    file,
                    cat.line(file, loc + ("parent",)),
                    f"{facet.id}.{term.id}.parent",
                    "a term cannot be its own parent",
                )
    cat.taxonomy = tax


def _check_refs(
    cat: Catalog, rel: str, field_name: str, values: list[str] | str | None, known: dict, what: str
) -> None:
    if values is None:
        return
    for i, value in enumerate([values] if isinstance(values, str) else values):
        if value not in known:
            loc = (field_name,) if isinstance(values, str) else (field_name, i)
            cat.add(rel, cat.line(rel, loc), field_name, f"{value!r} is not a known {what}{suggest(value, known)}")


def _module_functions(root: Path, module: str) -> set[str] | None:
    """Top-level function names of an mi_ref module, read statically (no torch import needed)."""
    path = root / Path(*module.split(".")).with_suffix(".py")
    if not path.is_file():
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _well_typed(value: Any) -> str | list[str] | None:
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return value
    return None


def _check_paper_refs(cat: Catalog, rel: str, get) -> None:
    """Every reference a paper makes (venue, facet terms, datasets, metrics, lists) must exist."""
    terms = cat.terms
    _check_refs(cat, rel, "venue", get("venue"), cat.venues, "venue (catalog/venues.yaml)")
    for facet in FACETS:
        _check_refs(cat, rel, facet, get(facet), terms.get(facet, {}), f"{facet} term (catalog/taxonomy.yaml)")
    _check_refs(cat, rel, "datasets", get("datasets"), cat.datasets, "dataset (catalog/datasets/)")
    _check_refs(cat, rel, "metrics", get("metrics"), cat.metrics, "metric (catalog/metrics/)")
    _check_refs(cat, rel, "listed_in", get("listed_in"), cat.lists, "list (catalog/lists.yaml)")


def _check_unverified(cat: Catalog, rel: str, get) -> None:
    """`authors` and `tldr` are required unless `unverified` names them; and it names only what is missing.

    `get(field)` reads a paper's value, so papers that failed their per-file checks are checked too."""
    unverified = get("unverified")
    unverified = unverified if isinstance(unverified, list) else []
    for name, what in (("authors", "the author list"), ("tldr", "a tldr in your own words")):
        present = bool(get(name))
        if not present and name not in unverified:
            cat.add(
                rel,
                cat.line(rel, (name,)),
                name,
                f"required field is missing: add {what}, or, if no source confirms it, `unverified: [{name}]`",
            )
        elif present and name in unverified:
            cat.add(
                rel,
                cat.line(rel, ("unverified",)),
                "unverified",
                f"{name!r} is listed as unverified but the entry has it: remove {name!r} from unverified",
            )


def _check_cross_references(cat: Catalog) -> None:
    terms = cat.terms
    modules: dict[str, set[str] | None] = {}

    def module(name: str) -> set[str] | None:
        if name not in modules:
            modules[name] = _module_functions(cat.root, name)
        return modules[name]

    for pid, paper in cat.papers.items():
        rel = f"catalog/papers/{pid}.yaml"
        _check_paper_refs(cat, rel, lambda name, p=paper: getattr(p, name))
        if paper.implementation and module(paper.implementation) is None:
            cat.add(
                rel,
                cat.line(rel, ("implementation",)),
                "implementation",
                f"{paper.implementation!r} does not exist (no {paper.implementation.replace('.', '/')}.py)",
            )
        if paper.kind == "attack" and paper.defense_family and not paper.attack_family:
            cat.add(
                rel,
                cat.line(rel, ("kind",)),
                "kind",
                "an attack paper needs attack_family terms, not only defense_family",
            )
        if paper.kind == "defense" and not paper.defense_family:
            cat.add(
                rel,
                cat.line(rel, ("defense_family",)),
                "defense_family",
                "a defense paper needs at least one defense_family term",
            )
        if paper.kind == "attack" and not paper.attack_family:
            cat.add(
                rel,
                cat.line(rel, ("attack_family",)),
                "attack_family",
                "an attack paper needs at least one attack_family term",
            )
        _check_unverified(cat, rel, lambda name, p=paper: getattr(p, name))
    # A paper that failed its per-file checks still gets its references checked, so one run reports
    # every problem (a bad venue is not hidden behind a bad year). Only well-typed values are checked.
    for rel, data in cat._invalid_papers.items():
        _check_paper_refs(cat, rel, lambda name, d=data: _well_typed(d.get(name)))
        _check_unverified(cat, rel, data.get)
    for did, dataset in cat.datasets.items():
        rel = f"catalog/datasets/{did}.yaml"
        _check_refs(
            cat, rel, "modality", dataset.modality, terms.get("modality", {}), "modality term (catalog/taxonomy.yaml)"
        )
        if dataset.reference and dataset.reference.paper:
            _check_refs(cat, rel, "reference.paper", dataset.reference.paper, cat.papers, "paper")
    for mid, metric in cat.metrics.items():
        rel = f"catalog/metrics/{mid}.yaml"
        if metric.reference and metric.reference.paper:
            _check_refs(cat, rel, "reference.paper", metric.reference.paper, cat.papers, "paper")
        if metric.implementation:
            mod, func = metric.implementation.rsplit(".", 1)
            names = module(mod)
            if names is None or func not in names:
                cat.add(
                    rel,
                    cat.line(rel, ("implementation",)),
                    "implementation",
                    f"{metric.implementation!r} does not exist (no function {func!r} in {mod.replace('.', '/')}.py)",
                )


_CONFUSABLES = str.maketrans(
    {
        # Latin look-alikes from Cyrillic and Greek: a title written with them must still collide.
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "α": "a",
        "ο": "o",
        "ν": "v",
        "ι": "i",
        "κ": "k",
        "τ": "t",
        "ρ": "p",
    }
)


def title_key(title: str) -> str:
    """Normalised title for duplicate detection: NFKC, look-alike letters folded, case and punctuation dropped."""
    text = unicodedata.normalize("NFKC", title).casefold().translate(_CONFUSABLES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", text))


def find_title_duplicates(titles: dict[str, str]) -> list[tuple[str, str, float]]:
    """Pairs of IDs whose titles are near-identical.

    Comparing all pairs is quadratic (50M pairs at 10k papers), so candidates are blocked: two titles
    are compared only if they share their first three or their last three normalised words. A typo
    escapes detection only if it sits in both ends of the title.
    """
    keys = {pid: title_key(t) for pid, t in titles.items()}
    pairs: dict[tuple[str, str], float] = {}
    blocks: dict[tuple, list[str]] = defaultdict(list)
    for pid, key in keys.items():
        words = key.split()
        blocks[("head", *words[:3])].append(pid)
        blocks[("tail", *words[-3:])].append(pid)
    for members in blocks.values():
        if len(members) < 2:
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pair = (a, b) if a < b else (b, a)
                if pair in pairs:
                    continue
                score = 100.0 if keys[a] == keys[b] else fuzz.ratio(keys[a], keys[b])
                if score >= TITLE_NEAR_DUPLICATE:
                    pairs[pair] = score
    return sorted((a, b, s) for (a, b), s in pairs.items())


def _check_duplicates(cat: Catalog) -> None:
    for attr, label in (("doi", "DOI"), ("arxiv", "arXiv ID")):
        seen: dict[str, str] = {}
        for pid in sorted(cat.papers):
            value = getattr(cat.papers[pid], attr)
            if value is None:
                continue
            key = value.lower()
            if key in seen:
                rel = f"catalog/papers/{pid}.yaml"
                cat.add(
                    rel,
                    cat.line(rel, (attr,)),
                    attr,
                    f"{label} {value} is already used by catalog/papers/{seen[key]}.yaml; merge the two entries",
                )
            else:
                seen[key] = pid
    for a, b, score in find_title_duplicates({pid: p.title for pid, p in cat.papers.items()}):
        rel = f"catalog/papers/{b}.yaml"
        cat.add(
            rel,
            cat.line(rel, ("title",)),
            "title",
            f"title is near-identical ({score:.0f}%) to catalog/papers/{a}.yaml; is this the same paper?",
        )


def _check_own_words(cat: Catalog) -> None:
    """A tldr whose abstract was fingerprinted must share no 7-word run with it (tools/fingerprint.py)."""
    try:
        rows = fingerprint.read_table(cat.root)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        cat.add(
            fingerprint.TABLE,
            1,
            "hashes",
            f"cannot read the table ({err}); regenerate rows with `python -m tools fingerprint`",
        )
        return
    for line, (pid, row) in enumerate(rows.items(), start=2):  # line 1 is the header
        if pid not in cat.papers:
            if pid not in cat._invalid_papers:
                cat.add(fingerprint.TABLE, line, "paper", f"{pid!r} is not a paper ID; fix the ID or remove the row")
            continue
        hashes = (row.get("hashes") or "").split()
        if not hashes or not all(re.fullmatch(r"[0-9a-f]{8}", h) for h in hashes):
            cat.add(
                fingerprint.TABLE, line, "hashes", "malformed; regenerate the row with `python -m tools fingerprint`"
            )
            continue
        tldr = cat.papers[pid].tldr
        copied = fingerprint.copied(tldr, set(hashes)) if tldr else []
        if copied:
            rel = f"catalog/papers/{pid}.yaml"
            cat.add(
                rel,
                cat.line(rel, ("tldr",)),
                "tldr",
                f"shares '{copied[0]}' with the paper's abstract (its fingerprint is in {fingerprint.TABLE}); "
                "rewrite the summary in your own words",
            )


# "black- box": a hyphen then a space inside a word. In a folded YAML block (`tldr: >-`) a line that
# ends with "black-" is joined to the next with a space, so the page shows "black- box". A hyphen
# before "and", "or", "to" or "nor" is a suspended compound ("pre- and post-training") and is fine.
SPLIT_HYPHEN = re.compile(r"\b(\w+)- (?!(?:and|or|to|nor)\b)(\w+)")


def _check_split_hyphens(cat: Catalog) -> None:
    """No tldr or title shows a hyphenated word broken by YAML line folding."""
    for pid, paper in cat.papers.items():
        rel = f"catalog/papers/{pid}.yaml"
        for name in ("title", "tldr"):
            match = SPLIT_HYPHEN.search(getattr(paper, name) or "")
            if match:
                cat.add(
                    rel,
                    cat.line(rel, (name,)),
                    name,
                    f"'{match.group(0)}' has a space after a hyphen, usually a folded line that ends in "
                    f"'{match.group(1)}-': keep '{match.group(1)}-{match.group(2)}' on one line",
                )


def _check_screened(cat: Catalog) -> None:
    """Rows of catalog/coverage/screened.tsv are well-formed, and none is also a catalogue paper."""
    rows, problems = screened.read(cat.root)
    for problem in problems:
        cat.add(screened.TABLE, problem.line, problem.field, problem.message)
    by_arxiv = {p.arxiv: pid for pid, p in cat.papers.items() if p.arxiv}
    by_title = {title_key(p.title): pid for pid, p in cat.papers.items()}
    for row in rows:
        field_name = "arxiv" if row.arxiv in by_arxiv else "title"
        pid = by_arxiv.get(row.arxiv) if row.arxiv else None
        pid = pid or by_title.get(title_key(row.title))
        if pid is None:
            continue
        where = f"{screened.TABLE} line {row.line}"
        if row.verdict == "out-of-scope":
            message = (
                f"this paper was screened out of scope on {row.screened} ({where}: {row.reason}); "
                "if it belongs here after all, delete that line and say why in the pull request"
            )
        else:
            message = f"{where} lists this paper as not yet verified; now that it is catalogued, delete that line"
        rel = f"catalog/papers/{pid}.yaml"
        cat.add(rel, cat.line(rel, (field_name,)), field_name, message)


def load_catalog(root: Path = ROOT) -> Catalog:
    """Read and check the whole catalogue under root/catalog; problems are collected, never raised."""
    cat = Catalog(root=root)
    venues = _load_vocabulary(cat, "venues.yaml", VenueFile)
    lists = _load_vocabulary(cat, "lists.yaml", ListFile)
    tax = _load_vocabulary(cat, "taxonomy.yaml", Taxonomy)
    _check_vocabularies(cat, venues, lists, tax)
    _load_folder(cat, "papers", Paper, cat.papers)
    _load_folder(cat, "datasets", Dataset, cat.datasets)
    _load_folder(cat, "metrics", Metric, cat.metrics)
    _check_cross_references(cat)
    _check_duplicates(cat)
    _check_own_words(cat)
    _check_split_hyphens(cat)
    _check_screened(cat)
    cat.problems.sort(key=lambda p: (p.path, p.line, p.field))
    return cat
