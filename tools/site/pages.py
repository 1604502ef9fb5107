"""Every generated page and data file of the site, as pure functions of the catalogue.

`render_site(cat, root)` returns {path under site/generated/: text or bytes}; build.py writes them.
Pages are Markdown files holding YAML front matter and a single raw HTML block from a Jinja template
(autoescaping on). Links between generated pages are computed here, relative to the page's URL
(`use_directory_urls: false`: generated/papers/x.md is served as generated/papers/x.html, one file per
page and no folder each, which also makes the build faster and the site readable from disk).

Two locks keep hostile data out of the page: Jinja escapes every value, and `_finalize` folds newlines
in values so no data can start a line (pymdownx.snippets acts on lines starting with `--8<--`, before
HTML is set aside). Lines that start with '-' or ';' for another reason, and all braces, are written as
entities (`_guard`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import html
import json
import posixpath
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2
import markdown
import yaml
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from tools import export, screened
from tools.catalog import Catalog
from tools.models import FACETS, Paper
from tools.site import explore, figures, refcode, results

GENERATED = "generated"  # folder under the docs dir (site/) that holds every generated file; git-ignored
PAPERS = f"{GENERATED}/papers"
BRANCH = "main"
WHATS_NEW_COUNT = 50
SEARCH_EXCLUDE = {"search": {"exclude": True}}  # lists that repeat paper titles: keep them out of the index
TERM_BOOST = 3  # search rank multiplier of taxonomy term pages (Material's `search.boost`)
TOP_TERM_BOOST = 3.5  # a facet's top-level terms: "gradient inversion" ranked its sub-terms, whose titles
# hold the same words, a hair above the term itself


# --- links -----------------------------------------------------------------------------------------


def page_url(path: str) -> str:
    """Docs-relative path of a page or file -> its URL path relative to the site root (x.md -> x.html)."""
    return path[: -len(".md")] + ".html" if path.endswith(".md") else path


def href(from_page: str, to: str) -> str:
    """Relative link from one page (docs path) to a page or file (docs path)."""
    source, target = page_url(from_page), page_url(to)
    folder, _, name = target.rpartition("/")
    up = _relative_folder(source.rpartition("/")[0], folder)
    return name if up == "." else f"{up}/{name}"


@lru_cache(maxsize=1024)  # a few dozen folders, hundreds of thousands of links
def _relative_folder(source: str, target: str) -> str:
    return posixpath.relpath(target or ".", source or ".")


def paper_page(pid: str) -> str:
    return f"{PAPERS}/{pid}.md"


def term_page(facet: str, term: str) -> str:
    return f"{GENERATED}/taxonomy/{facet}/{term}.md"


def facet_page(facet: str) -> str:
    return f"{GENERATED}/taxonomy/{facet}/index.md"


def safe_url(url: str | None) -> str:
    """External links must be http(s); anything else (javascript:, data:) becomes a dead link."""
    return url if url and url.startswith(("https://", "http://")) else "#"


# --- rendering -------------------------------------------------------------------------------------


def _finalize(value):
    if type(value) is str:  # not Markup (a str subclass): that is ours and already safe
        return value.replace("\r", " ").replace("\n", " ")
    return value


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("tools.site", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_finalize,
    undefined=jinja2.StrictUndefined,
)
ROW = ENV.get_template("row.html.j2")
_LINE_START = re.compile(r"(?m)^([ \t]*)([-;])")
_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)


def _guard(body: str) -> str:
    """Entities for what Markdown extensions or a template engine could act on: a '-' or ';' starting a
    line (snippets), and every brace (so no '{{' or '{%' reaches a page, whoever adds a macro plugin)."""
    body = body.replace("{", "&#123;").replace("}", "&#125;")
    return _LINE_START.sub(lambda m: m.group(1) + f"&#{ord(m.group(2))};", body)


def md_page(title: str, body: str, meta: dict | None = None) -> str:
    """A Markdown page: front matter (values JSON-quoted, title pre-escaped because the theme prints it
    unescaped) and one raw HTML block."""
    lines = ["---", f"title: {json.dumps(html.escape(title, quote=False))}"]
    if meta:
        lines.append(yaml.safe_dump(meta, default_flow_style=False, sort_keys=True).strip())
    lines += ["---", "", _guard(body.strip()), ""]
    return "\n".join(lines)


def render(template: str, **context) -> str:
    return ENV.get_template(template).render(**context)


def code_html(code: str, lexer) -> Markup:
    """Syntax-highlighted code; Pygments escapes the text itself."""
    return Markup(highlight(code, lexer, _FORMATTER))


# Math between $ or $$ (module docstrings, metric definitions) becomes MathML at build time, which
# browsers render natively: no JavaScript, nothing fetched. latex2mathml copies \text{...} through
# unescaped, and metric definitions are contributed text, so its output is parsed and kept only when
# every element and attribute is plain presentation MathML; anything else, or TeX it cannot parse,
# is shown as its LaTeX source in a code span instead.
# Inline math may run over a line break (docstrings wrap long formulas) but not over a blank line.
_MATH = re.compile(r"\$\$(.+?)\$\$|\$((?:[^$\n]|\n(?![ \t]*\n))+?)\$", re.DOTALL)
_MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_MATHML_TAGS = frozenset([
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup", "mfrac", "msqrt",
    "mroot", "mstyle", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mpadded", "mphantom",
    "menclose", "merror",
])  # fmt: skip
_MATHML_ATTRS = frozenset([
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "minsize", "maxsize",
    "movablelimits", "accent", "accentunder", "width", "height", "depth", "columnalign", "columnspacing",
    "rowspacing", "columnlines", "rowlines", "frame", "framespacing", "displaystyle", "scriptlevel",
    "linethickness", "notation", "form", "symmetric", "largeop", "align", "rowalign",
])  # fmt: skip


# Commands latex2mathml does not know, rewritten to ones it does (it would print "\\arg" as text).
_TEX_REWRITES = {"\\arg\\min": "\\mathrm{arg\\,min}", "\\arg\\max": "\\mathrm{arg\\,max}", "\\arg": "\\mathrm{arg}"}


def _mathml(tex: str, display: bool) -> str | None:
    """MathML for one TeX formula, or None when it cannot be converted or is not plain MathML."""
    from latex2mathml.converter import convert  # only site builds need it

    source = tex
    for old, new in _TEX_REWRITES.items():
        source = source.replace(old, new)
    try:
        root = ET.fromstring(convert(source, display="block" if display else "inline"))
    except Exception:  # noqa: BLE001 -- latex2mathml raises many unrelated error types on TeX it does not know
        return None
    for el in root.iter():
        ns, _, tag = el.tag.rpartition("}")
        if ns != "{" + _MATHML_NS or tag not in _MATHML_TAGS or set(el.attrib) - _MATHML_ATTRS:
            return None
        if "\\" in (el.text or ""):
            return None  # a command it did not know, copied through as text: show the source instead
        el.tag = tag  # serialised without a namespace prefix; the xmlns is added back on <math> below
    root.set("alttext", tex)  # what screen readers without MathML support, and copy-paste, get
    return ET.tostring(root, encoding="unicode").replace("<math ", f'<math xmlns="{_MATHML_NS}" ', 1)


def math_html(match: re.Match) -> str:
    """One _MATH match as MathML, or as escaped LaTeX source in a code span if it cannot be converted."""
    display = match.group(1) is not None
    mathml = _mathml(match.group(1) if display else match.group(2), display)
    if mathml and not display:
        # An inline formula cannot wrap; wider than a phone it pushed the page sideways. Its box scrolls
        # instead (extra.css); the <math> itself keeps its own display, which MathML layout needs.
        return f'<span class="mi-formula">{mathml}</span>'
    return mathml or f'<code class="mi-math">{html.escape(match.group(0), quote=False)}</code>'


def docstring_html(text: str, paper_link: Callable[[str], str | None] | None = None) -> Markup:
    """`paper_link` (paper ID -> URL, or None for anything else): a code span holding just a catalogue
    paper's ID becomes a link to its page, so a module page's `zhu2019dlg` leads to the paper."""
    spans: list[str] = []

    def stash(m: re.Match) -> str:
        spans.append(math_html(m))
        return f"MIMATH{len(spans) - 1}X"

    # Raw HTML switched off (it comes out escaped); math set aside first so Markdown leaves it alone.
    md = markdown.Markdown(extensions=["fenced_code", "tables"])  # tables: modules' result tables
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    out = md.convert(_MATH.sub(stash, text))
    if paper_link is not None:

        def link(m: re.Match) -> str:
            url = paper_link(html.unescape(m.group(1)))
            return f'<a href="{html.escape(url)}">{m.group(0)}</a>' if url else m.group(0)

        out = re.sub(r"<code>([^<]+)</code>", link, out)
    out = re.sub(r"MIMATH(\d+)X", lambda m: spans[int(m.group(1))], out)
    return Markup(out)


def math_text(text: str) -> Markup:
    """Plain text with its $...$ spans as MathML (or LaTeX source in a code span), as on module pages."""
    parts, last = [], 0
    for m in _MATH.finditer(text):
        parts.append(html.escape(text[last : m.start()], quote=False))
        parts.append(math_html(m))
        last = m.end()
    parts.append(html.escape(text[last:], quote=False))
    return Markup("".join(parts))


# --- the catalogue's pages -------------------------------------------------------------------------


@dataclass
class Site:
    """What every page function needs: the catalogue and a few things computed once from it."""

    cat: Catalog
    root: Path
    repo_url: str
    bibtex: dict[str, str]
    modules: dict[str, refcode.Module]
    term_papers: dict[str, dict[str, list[str]]]  # facet -> term -> paper IDs (term or descendants)
    terms: dict[str, dict] = field(default_factory=dict)  # cat.terms, computed once (it is a property)

    _rows: dict[str, dict[str, Markup]] = field(default_factory=dict)  # link prefix -> paper ID -> <tr>
    grids: dict[str, Path] = field(default_factory=dict)
    has_results: bool = False

    def __post_init__(self) -> None:
        self.terms = self.cat.terms
        # Grids of modules that have a page; the matrix, when mi_ref/results/ holds one.
        self.grids = {k: v for k, v in refcode.result_images(self.root).items() if k in self.modules}
        self.has_results = bool(refcode.matrix_cells(self.root)) or bool(self.grids)

    def rows(self, here: str, papers: list[Paper]) -> list[Markup]:
        """Table rows of these papers for a page at `here`. A paper's row differs only by the link
        prefix, which is the same for all pages at one depth, so each is rendered once per depth."""
        prefix = _rows_prefix(here)
        cache = self._rows.setdefault(prefix, {})
        out = []
        for p in papers:
            row = cache.get(p.id)
            if row is None:
                venue = self.cat.venues.get(p.venue)
                row = cache[p.id] = Markup(ROW.render(p=p, prefix=prefix, venue=venue.short if venue else p.venue))
            out.append(row)
        return out

    def sorted_papers(self, ids) -> list[Paper]:
        papers = [self.cat.papers[i] for i in ids]
        return sorted(papers, key=lambda p: (-p.year, p.title.casefold(), p.id))

    def repo_link(self, action: str, path: str) -> str:
        """The repository's page of one of its files ("blob" to read it, "edit" to change it), or "" while
        mkdocs.yml sets no repo_url: pages then name the file without linking it, never to a made-up host."""
        return safe_url(f"{self.repo_url}/{action}/{BRANCH}/{path}") if self.repo_url else ""

    def venue_label(self, paper: Paper) -> tuple[str, str]:
        """(short name, long name or "" when it adds nothing): the page shows "short (long)"."""
        venue = self.cat.venues.get(paper.venue)
        if venue is None:
            return paper.venue, ""
        return (venue.short, venue.name) if venue.short != venue.name else (venue.name, "")

    def facet_label(self, facet: str) -> str:
        return next((f.label for f in self.cat.taxonomy.facets if f.id == facet), facet)

    def children(self, facet: str, term: str | None) -> list[str]:
        return [t for t, v in self.terms[facet].items() if v.parent == term]


GAPS = {"authors": "the author list", "tldr": "what the paper does (so it has no summary yet)"}
"""How a paper page names the facts its entry leaves `unverified`."""


def cite_as(paper: Paper, site: Site) -> str:
    """A plain-text reference: authors, year, title, venue, DOI or arXiv."""
    venue = site.cat.venues.get(paper.venue)
    if not paper.authors:
        authors = "[authors not verified]"
    else:
        authors = ", ".join(paper.authors[:-1]) + (" and " if len(paper.authors) > 1 else "") + paper.authors[-1]
    where = "arXiv preprint" if paper.venue == "arxiv" else (venue.short if venue else paper.venue)
    text = f"{authors} ({paper.year}). {paper.title.rstrip('.')}. {where}."
    if paper.doi:
        text += f" https://doi.org/{paper.doi}"
    elif paper.arxiv:
        text += f" arXiv:{paper.arxiv}"
    return text


_ARXIV_PAGE = re.compile(r"^arxiv\.org/(?:abs|pdf)/(.+?)(?:v\d+)?(?:\.pdf)?$")


def _same_place(url: str | None) -> str:
    """A URL reduced to what decides where it leads: scheme, www, trailing slash, dx.doi.org, and an arXiv
    page's pdf/abs form and version number do not."""
    where = (url or "").split("://", 1)[-1].removeprefix("www.").rstrip("/")
    host, _, path = where.partition("/")
    host = {"dx.doi.org": "doi.org"}.get(host.lower(), host.lower())
    where = f"{host}/{path}"
    if host == "doi.org":
        return where.casefold()  # DOIs are case-insensitive
    m = _ARXIV_PAGE.match(where)
    return f"arxiv.org/abs/{m.group(1)}" if m else where


def render_paper(site: Site, paper: Paper) -> str:
    here = paper_page(paper.id)
    cat = site.cat
    external = []
    if paper.doi:
        external.append((f"DOI {paper.doi}", f"https://doi.org/{paper.doi}"))
    if paper.arxiv:
        external.append((f"arXiv {paper.arxiv}", f"https://arxiv.org/abs/{paper.arxiv}"))
    # The landing page, unless it is the DOI or arXiv page again (two links, one place).
    if _same_place(paper.url) not in {_same_place(url) for _, url in external}:
        external.insert(0, ("Paper", safe_url(paper.url)))
    external += [(f"Code: {url.split('://', 1)[-1]}", safe_url(url)) for url in paper.code]
    facet_rows = []
    for facet in FACETS:
        terms = site.terms[facet]
        items = [(terms[t].label, href(here, term_page(facet, t))) for t in getattr(paper, facet) if t in terms]
        if items:
            facet_rows.append((site.facet_label(facet), items))
    for label, ids, records, folder in (
        ("Datasets", paper.datasets, cat.datasets, "datasets"),
        ("Metrics", paper.metrics, cat.metrics, "metrics"),
    ):
        items = [(records[i].name, href(here, f"{GENERATED}/{folder}/{i}.md")) for i in ids if i in records]
        if items:
            facet_rows.append((label, items))
    implementation = None
    if paper.implementation:
        name = paper.implementation.removeprefix("mi_ref.")
        target = (
            href(here, f"{GENERATED}/reference/{name}.md")
            if name in site.modules
            else site.repo_link("blob", f"mi_ref/{name}.py")
        )
        implementation = (paper.implementation, target)
    listed = [(cat.lists[i].name, safe_url(cat.lists[i].url)) for i in paper.listed_in if i in cat.lists]
    body = render(
        "paper.html.j2",
        p=paper,
        venue_short=site.venue_label(paper)[0],
        venue_long=site.venue_label(paper)[1],
        external=external,
        facet_rows=facet_rows,
        implementation=implementation,
        listed_in=listed,
        cite_as=cite_as(paper, site),
        gaps=" or ".join(GAPS[name] for name in paper.unverified),
        bibtex=Markup("\n").join(site.bibtex[paper.id].rstrip("\n").split("\n")),
        edit_url=site.repo_link("edit", f"catalog/papers/{paper.id}.yaml"),
        conventions=href(here, "conventions.md"),
    )
    return md_page(paper.title, body)


def _rows_prefix(here: str) -> str:
    """The relative link from `here` to the papers' folder, ending in '/' (paper tables append 'ID.html')."""
    return href(here, f"{PAPERS}/x.md")[: -len("x.html")]


def render_term(site: Site, facet: str, term_id: str) -> str:
    here = term_page(facet, term_id)
    terms = site.terms[facet]
    term = terms[term_id]
    crumbs = [
        ("Taxonomy", href(here, f"{GENERATED}/taxonomy/index.md")),
        (site.facet_label(facet), href(here, facet_page(facet))),
    ]
    chain, parent = [], term.parent
    while parent and parent in terms and parent not in chain:
        chain.insert(0, parent)
        parent = terms[parent].parent
    crumbs += [(terms[t].label, href(here, term_page(facet, t))) for t in chain]
    children = [
        (terms[c].label, href(here, term_page(facet, c)), len(site.term_papers[facet][c]))
        for c in site.children(facet, term_id)
    ]
    ids = site.term_papers[facet][term_id]
    extra = []
    if ids:
        extra.append(("BibTeX of these papers", href(here, f"{GENERATED}/downloads/bibtex/{facet}/{term_id}.bib")))
    if facet in explore.EXPLORE_FACETS:
        extra.append(("Open in Explore", href(here, "explore.md") + f"?{facet}={term_id}"))
    body = render(
        "listing.html.j2",
        title=term.label,
        breadcrumbs=crumbs,
        description=term.description,
        facts=[],
        children=children,
        extra_links=extra,
        rows=site.rows(here, site.sorted_papers(ids)),
        note="Papers filed under this term or one of its sub-terms." if children else "",
    )
    # Indexed for search, and boosted so that a search for a term's name ("federated", "gradient inversion")
    # puts its page first, above the many papers that use the words; the paper table stays out of the index
    # (data-search-exclude), so titles are not repeated there. The seed survey's sections rank below.
    boost = TERM_BOOST - 1 if facet == "seed_section" else (TERM_BOOST if term.parent else TOP_TERM_BOOST)
    return md_page(f"{term.label} ({site.facet_label(facet)})", body, {"search": {"boost": boost}})


def _tree_ids(site: Site, facet: str, parent: str | None = None, depth: int = 0) -> list[tuple[str, int]]:
    """(term ID, depth) for the facet's terms, depth-first in taxonomy order."""
    out = []
    for t in site.children(facet, parent):
        out.append((t, depth))
        if depth < 8:  # the loader refuses self-parents; the cap also stops longer cycles
            out += _tree_ids(site, facet, t, depth + 1)
    return out


def _tree(site: Site, facet: str, here: str) -> list:
    terms = site.terms[facet]
    return [
        (terms[t].label, href(here, term_page(facet, t)), len(site.term_papers[facet][t]), depth, terms[t].description)
        for t, depth in _tree_ids(site, facet)
    ]


def render_facet(site: Site, facet: str) -> str:
    here = facet_page(facet)
    facet_obj = next(f for f in site.cat.taxonomy.facets if f.id == facet)
    tree = _tree(site, facet, here)
    sections, all_rows = [], []
    if facet == "seed_section":
        # The seed survey's own structure: each section, in its order, with the papers it files there.
        direct = defaultdict(list)
        for pid, paper in site.cat.papers.items():
            for t in paper.seed_section:
                direct[t].append(pid)
        terms = site.terms[facet]
        sections = [
            (terms[t].label, href(here, term_page(facet, t)), depth, site.rows(here, site.sorted_papers(direct[t])))
            for t, depth in _tree_ids(site, facet)
        ]
    else:
        all_rows = site.rows(here, site.sorted_papers({pid for ids in site.term_papers[facet].values() for pid in ids}))
    crumbs = [("Taxonomy", href(here, f"{GENERATED}/taxonomy/index.md"))]
    explore_link = href(here, "explore.md") if facet in explore.EXPLORE_FACETS else ""
    body = render(
        "facet.html.j2",
        facet=facet_obj,
        breadcrumbs=crumbs,
        tree=tree,
        sections=sections,
        all_rows=all_rows,
        explore=explore_link,
    )
    return md_page(facet_obj.label, body)  # indexed: its terms and their descriptions; tables are excluded


def render_taxonomy_index(site: Site) -> str:
    here = f"{GENERATED}/taxonomy/index.md"
    rows = []
    for f in site.cat.taxonomy.facets:
        papers = {pid for ids in site.term_papers[f.id].values() for pid in ids}
        rows.append((f.label, href(here, facet_page(f.id)), [f.description, len(f.terms), len(papers)]))
    body = render(
        "index_table.html.j2",
        title="Taxonomy",
        intro="Every paper is filed under terms of these facets. Each facet page shows its terms as a tree; "
        "each term page lists its papers. The seed survey facet reproduces the sections of the survey "
        "the catalogue started from.",
        extra_links=[("Explore: combine facets", href(here, "explore.md"))],
        headers=["Facet", "Description", "Terms", "Papers"],
        numeric={"Terms", "Papers"},
        rows=rows,
    )
    return md_page("Taxonomy", body)


def render_dataset(site: Site, did: str) -> str:
    here = f"{GENERATED}/datasets/{did}.md"
    d = site.cat.datasets[did]
    modality = site.terms["modality"]
    facts = [
        ("Contents", d.contents, None),
        ("Usual roles", ", ".join(d.roles), None),
        ("Modality", ", ".join(modality[m].label if m in modality else m for m in d.modality), None),
        ("Official page", d.url, safe_url(d.url)),
    ]
    if d.licence:
        facts.append(("Licence", d.licence, None))
    facts += _reference_facts(site, d.reference, here)
    ids = [pid for pid, p in site.cat.papers.items() if did in p.datasets]
    body = _resource_listing(site, here, d.name, "Datasets", facts, ids, "Papers that evaluate on this dataset.")
    return md_page(f"{d.name} (dataset)", body)


def _resource_listing(site: Site, here: str, title: str, section: str, facts: list, ids: list, note: str) -> str:
    """The body of a dataset or metric page: its facts, then the papers that use it."""
    crumbs = [(section, href(here, f"{GENERATED}/{section.lower()}/index.md"))]
    return render(
        "listing.html.j2",
        title=title,
        breadcrumbs=crumbs,
        description="",
        facts=facts,
        children=[],
        extra_links=[],
        rows=site.rows(here, site.sorted_papers(ids)),
        note=note,
    )


def _reference_facts(site: Site, ref, here: str) -> list:
    if ref is None:
        return []
    label = ref.title + (f" ({ref.year})" if ref.year else "")
    if ref.paper and ref.paper in site.cat.papers:
        url = href(here, paper_page(ref.paper))
    elif ref.doi:
        url = f"https://doi.org/{ref.doi}"
    else:
        url = safe_url(ref.url) if ref.url else None
    return [("Reference", label, url)]


def render_metric(site: Site, mid: str) -> str:
    here = f"{GENERATED}/metrics/{mid}.md"
    m = site.cat.metrics[mid]
    facts = [
        ("Measures", m.measures, None),
        ("Definition", math_text(m.definition), None),
        ("A stronger attack or closer match gives", f"{m.direction} values", None),
        ("Range", m.range, None),
    ]
    facts += _reference_facts(site, m.reference, here)
    if m.implementation:
        module = m.implementation.split(".")[1]
        facts.append(
            ("Implementation", m.implementation, site.repo_link("blob", f"mi_ref/{module}.py") or None)
        )
    ids = [pid for pid, p in site.cat.papers.items() if mid in p.metrics]
    body = _resource_listing(site, here, m.name, "Metrics", facts, ids, "Papers that report this metric.")
    return md_page(f"{m.name} (metric)", body)


def _count_by(site: Site, field: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for p in site.cat.papers.values():
        for v in getattr(p, field):
            counts[v] += 1
    return counts


def render_record_index(site: Site, kind: str) -> str:
    here = f"{GENERATED}/{kind}/index.md"
    counts = _count_by(site, kind)
    if kind == "datasets":
        rows = [
            (d.name, href(here, f"{GENERATED}/datasets/{i}.md"), [d.contents, ", ".join(d.roles), counts[i]])
            for i, d in sorted(site.cat.datasets.items())
        ]
        headers, intro = (
            ["Dataset", "Contents", "Usual roles", "Papers"],
            (
                "Datasets used in model-inversion work, with their usual role: the target's private training data, "
                "the attacker's public prior, evaluation, auxiliary data or benchmark."
            ),
        )
    else:
        rows = [
            (m.name, href(here, f"{GENERATED}/metrics/{i}.md"), [m.measures, m.direction, counts[i]])
            for i, m in sorted(site.cat.metrics.items())
        ]
        headers, intro = (
            ["Metric", "Measures", "Better attack is", "Papers"],
            (
                "Metrics used to judge inversions: how close a reconstruction is to the private data, or how well an "
                "attack identifies it."
            ),
        )
    body = render(
        "index_table.html.j2",
        title=kind.capitalize(),
        intro=intro,
        extra_links=[],
        headers=headers,
        numeric={"Papers"},
        rows=rows,
    )
    return md_page(kind.capitalize(), body)


def render_module(site: Site, mod: refcode.Module) -> str:
    here = f"{GENERATED}/reference/{mod.name}.md"
    named = set(mod.papers) | {pid for pid, p in site.cat.papers.items() if p.implementation == f"mi_ref.{mod.name}"}
    known = [pid for pid in named if pid in site.cat.papers]
    core = "\n\n# ...\n\n".join(mod.core)
    body = render(
        "module.html.j2",
        mod=mod,
        breadcrumbs=[("Reference code", href(here, f"{GENERATED}/reference/index.md"))],
        docstring_html=docstring_html(
            mod.docstring, lambda pid: href(here, paper_page(pid)) if pid in site.cat.papers else None
        ),
        source_url=site.repo_link("blob", f"mi_ref/{mod.name}.py"),
        rows=site.rows(here, site.sorted_papers(known)),
        unknown_papers=sorted(named - set(known)),
        core_html=code_html(core, PythonLexer()) if core else "",
        results=result_rows(site, here, refcode.reference_results(site.root, mod.name)),
        results_page=href(here, RESULTS_PAGE),
        grid=href(here, f"{GENERATED}/reference/{mod.name}.png") if mod.name in site.grids else "",
    )
    return md_page(f"mi_ref.{mod.name}", body)


RESULTS_PAGE = f"{GENERATED}/reference/results.md"


def result_rows(site: Site, here: str, cells: list[dict]) -> list[tuple]:
    """Table rows of matrix cells: (text, link) per column, linking modules and metrics to their pages."""

    def module(label: str, name: str) -> tuple[str, str]:
        short = name.removeprefix("mi_ref.")
        return label, href(here, f"{GENERATED}/reference/{short}.md") if short in site.modules else ""

    rows = []
    for c in cells:
        metric = site.cat.metrics.get(c["metric"])
        utility = ""
        if c.get("utility") is not None:
            pair = [refcode.fmt(c["utility"])] + (
                [refcode.fmt(c["utility_undefended"])] if c.get("utility_undefended") is not None else []
            )
            utility = " / ".join(pair) + (f" ({c['utility_metric']})" if c.get("utility_metric") else "")
        rows.append(
            (
                module(c["defense"], c["defense_module"]),
                (c["setting"], ""),
                module(c["attack"], c["attack_module"]),
                (c.get("attacker") or "", ""),
                (
                    metric.name if metric else c["metric"],
                    href(here, f"{GENERATED}/metrics/{c['metric']}.md") if metric else "",
                ),
                (refcode.fmt(c["value"]), ""),
                (refcode.fmt(c["undefended"]), ""),
                (utility, ""),
            )
        )
    return rows


def render_results(site: Site) -> tuple[str, list[figures.Figure]]:
    """The results page (a section per defense family: plot, colour-classed table, reconstruction grid) and
    the family plots it shows (written next to it as generated/reference/results-<module>.svg)."""
    here = RESULTS_PAGE

    def module_link(name: str) -> str:
        short = name.removeprefix("mi_ref.")
        return href(here, f"{GENERATED}/reference/{short}.md") if short in site.modules else ""

    sections, figs = [], []
    for fam in results.families(refcode.matrix_cells(site.root), site.cat):
        fig = results.plot(fam)
        if fig:
            figs.append(fig)
        rows = []
        for r in fam.rows:
            c = r.cell
            metric = site.cat.metrics.get(c["metric"])
            utility = ""
            if c.get("utility") is not None:
                utility = refcode.fmt(c["utility"]) + (
                    f" / {refcode.fmt(c['utility_undefended'])}" if c.get("utility_undefended") is not None else ""
                )
            rows.append(
                {
                    "defense": (c["defense"], module_link(c["defense_module"])),
                    "setting": c["setting"],
                    "attack": (c["attack"], module_link(c["attack_module"])),
                    "attacker": c.get("attacker") or "",
                    "metric": (
                        metric.name if metric else c["metric"],
                        href(here, f"{GENERATED}/metrics/{c['metric']}.md") if metric else "",
                    ),
                    "direction": r.direction,
                    "value": refcode.fmt(c["value"]),
                    "undefended": refcode.fmt(c["undefended"]),
                    "reduction": r.reduction,
                    "reduction_text": r.reduction_text,
                    "utility": utility,
                    "utility_metric": c.get("utility_metric") or "",
                    "utility_class": r.utility,
                    "utility_text": r.utility_text,
                    "papers": [(pid, href(here, paper_page(pid)), site.cat.papers[pid].title) for pid in r.papers],
                }
            )
        module = site.modules.get(fam.module)
        sections.append(
            {
                "id": fam.module,
                "title": f"mi_ref.{fam.module}",
                "link": module_link(fam.module),
                "summary": module.summary if module else "",
                "defenses": fam.defenses,
                "rows": rows,
                "plot": {
                    "src": href(here, f"{GENERATED}/reference/{fig.name}.svg"),
                    "alt": fig.alt,
                    "caption": fig.caption,
                    "width": fig.width,
                    "height": fig.height,
                }
                if fig
                else None,
                "grid": href(here, f"{GENERATED}/reference/{fam.module}.png") if fam.module in site.grids else "",
            }
        )
    shown = {s["id"] for s in sections}
    # Grids of modules that are no defense family (an attack module's own grid) still get shown, at the end.
    grids = [
        (f"mi_ref.{name}", href(here, f"{GENERATED}/reference/{name}.png")) for name in site.grids if name not in shown
    ]
    legend = {
        "reduction": [(k, *v) for k, v in results.REDUCTION_CLASSES.items()],
        "utility": [(k, *v) for k, v in results.UTILITY_CLASSES.items() if k != "unknown"],
        "strong": f"{100 * results.STRONG:.0f}%",
        "partial": f"{100 * results.PARTIAL:.0f}%",
        "kept": f"{results.KEPT:g}",
        "some": f"{results.SOME_LOSS:g}",
    }
    body = render(
        "results.html.j2",
        breadcrumbs=[("Reference code", href(here, f"{GENERATED}/reference/index.md"))],
        sections=sections,
        grids=grids,
        legend=legend,
    )
    return md_page("Reference results", body, {"hide": ["navigation", "toc"]}), figs  # wide tables


def render_module_index(site: Site) -> str:
    here = f"{GENERATED}/reference/index.md"
    rows = [
        (f"mi_ref.{name}", href(here, f"{GENERATED}/reference/{name}.md"), [m.summary, len(m.papers)])
        for name, m in site.modules.items()
    ]
    body = render(
        "index_table.html.j2",
        title="Reference code",
        intro="Small, runnable PyTorch implementations of each attack and defense family on toy data "
        "(scikit-learn's 8x8 digits), readable in one sitting. Each page shows the module's idea, its "
        "core code straight from the file, how to run it and the papers it implements.",
        extra_links=[("Reference results: every attack against every defense", href(here, RESULTS_PAGE))]
        if site.has_results
        else [],
        headers=["Module", "Idea", "Papers"],
        numeric={"Papers"},
        rows=rows,
    )
    return md_page("Reference code", body)


def recent(site: Site) -> list[Paper]:
    return sorted(site.cat.papers.values(), key=lambda p: (p.added, p.id), reverse=True)[:WHATS_NEW_COUNT]


def render_whats_new(site: Site) -> str:
    here = f"{GENERATED}/whats-new.md"
    body = render(
        "whats_new.html.j2", rows=recent(site), feed=href(here, f"{GENERATED}/feed.xml"), prefix=_rows_prefix(here)
    )
    return md_page("What's new", body, SEARCH_EXCLUDE)


HELP_WANTED = f"{GENERATED}/help-wanted.md"
EXPERIMENTS_PAGE = f"{GENERATED}/help-wanted-experiments.md"  # its own page: a thousand rows made Help wanted ~0.5 MB


def _help_row(site: Site, p: Paper, missing: str) -> tuple:
    venue = site.cat.venues[p.venue].short if p.venue in site.cat.venues else p.venue
    return p, venue, missing, site.repo_link("edit", f"catalog/papers/{p.id}.yaml")


def _by_age(site: Site) -> list[Paper]:
    return sorted(site.cat.papers.values(), key=lambda p: (p.year, p.id))


def missing_experiments(site: Site) -> list[tuple]:
    """Papers whose experiments (datasets, metrics) are not recorded yet, oldest first. A survey runs no
    experiments of its own, so it is never missing datasets or metrics."""
    return [
        _help_row(site, p, ", ".join(field for field in ("datasets", "metrics") if not getattr(p, field)))
        for p in _by_age(site)
        if p.kind != "survey" and not (p.datasets and p.metrics)
    ]


def render_help_experiments(site: Site) -> str:
    here = EXPERIMENTS_PAGE
    body = render(
        "help_experiments.html.j2",
        rows=missing_experiments(site),
        help_wanted=href(here, HELP_WANTED),
        prefix=_rows_prefix(here),
    )
    return md_page("Experiments not yet recorded", body, SEARCH_EXCLUDE)


def render_help_wanted(site: Site) -> str:
    """What a contributor could supply: `unverified` facts first (oldest papers first), then how many papers
    have no recorded experiments (listed on their own page), then screened papers not yet catalogued."""
    here = HELP_WANTED
    unverified = [
        _help_row(site, p, ", ".join({"authors": "authors", "tldr": "summary"}[u] for u in p.unverified))
        for p in _by_age(site)
        if p.unverified
    ]
    # Papers known to belong here whose facts no reachable source confirmed (catalog/coverage/screened.tsv).
    candidates = screened.read(site.root)[0]
    leads = [
        (row, safe_url(f"https://arxiv.org/abs/{row.arxiv}") if row.arxiv else None)
        for row in sorted(candidates, key=lambda r: (r.arxiv or "~", r.title))
        if row.verdict == "unverified"
    ]
    body = render(
        "help_wanted.html.j2",
        rows=unverified,
        experiments=len(missing_experiments(site)),
        experiments_url=href(here, EXPERIMENTS_PAGE),
        leads=leads,
        out_of_scope=sum(row.verdict == "out-of-scope" for row in candidates),
        screened_url=site.repo_link("blob", screened.TABLE),
        screened_path=screened.TABLE,
        contributing_url=href(here, CONTRIBUTING_PAGE) + "#add-a-paper",
        prefix=_rows_prefix(here),
    )
    return md_page("Help wanted", body, SEARCH_EXCLUDE)


ATOM = "http://www.w3.org/2005/Atom"


CONTRIBUTING_PAGE = f"{GENERATED}/contributing.md"
_RELATIVE_LINK = re.compile(r"\]\((?![a-z]+:|#|/)([^)\s]+)\)")
_RELATIVE_LINKED_TEXT = re.compile(r"\[([^\]]*)\]\((?![a-z]+:|#|/)([^)\s]+)\)")


def render_contributing(root: Path, repo_url: str) -> str:
    """The repository's CONTRIBUTING.md as a page of the site (Markdown as written; it is the project's own
    text, not catalogue data), so the guide is one click from Help wanted and every page's navigation."""
    path = root / "CONTRIBUTING.md"
    if path.is_file():
        # A relative link there points into the repository, not the site: send it to the repository (a link
        # MkDocs cannot resolve would also fail the strict build), or, while no repo_url is set, keep its text
        # and name the file.
        text = path.read_text(encoding="utf-8")
        if repo_url:
            text = _RELATIVE_LINK.sub(lambda m: f"]({safe_url(f'{repo_url}/blob/{BRANCH}/{m.group(1)}')})", text)
        else:
            text = _RELATIVE_LINKED_TEXT.sub(lambda m: f"{m.group(1)} (`{m.group(2)}`)", text)
        return f"---\ntitle: Contributing\n---\n\n{text}"
    if not repo_url:
        return md_page("Contributing", "<h1>Contributing</h1>\n<p>See <code>CONTRIBUTING.md</code> in the repository.</p>")
    url = safe_url(f"{repo_url}/blob/{BRANCH}/CONTRIBUTING.md")
    return md_page(
        "Contributing",
        f'<h1>Contributing</h1>\n<p>See <a href="{html.escape(url)}">CONTRIBUTING.md</a> in the repository.</p>',
    )


def render_feed(site: Site, site_url: str | None) -> bytes:
    """Atom feed of the newest entries. Links are absolute when site_url is known, else relative to the feed."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    papers = recent(site)
    updated = max((p.added for p in papers), default=dt.date(2026, 1, 1))

    def sub(parent, tag, text=None, **attrs):
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    def link(docs_path: str) -> str:
        return (
            (site_url.rstrip("/") + "/" + page_url(docs_path)) if site_url else href(f"{GENERATED}/feed.md", docs_path)
        )

    sub(feed, "id", "urn:mi-catalogue:feed")
    sub(feed, "title", "Model inversion catalogue: new entries")
    sub(feed, "updated", f"{updated.isoformat()}T00:00:00Z")
    sub(feed, "link", href=link(f"{GENERATED}/whats-new.md"))
    sub(sub(feed, "author"), "name", "The model inversion catalogue")
    for p in papers:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:mi-catalogue:paper:{p.id}")
        sub(entry, "title", p.title)
        sub(entry, "updated", f"{p.added.isoformat()}T00:00:00Z")
        sub(entry, "link", href=link(paper_page(p.id)))
        if p.authors:  # without them the entry inherits the feed's author, as Atom allows
            sub(sub(entry, "author"), "name", ", ".join(p.authors))
        if p.tldr:
            sub(entry, "summary", p.tldr)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} B"


DOWNLOADS = {
    "catalogue.json": "JSON: every record (papers, datasets, metrics, venues, lists, taxonomy)",
    "catalogue.schema.json": "JSON Schema of catalogue.json",
    "papers.csv": "CSV: one row per paper, lists joined with '; '",
    "catalogue.bib": "BibTeX: every paper",
    "catalogue.csl.json": "CSL-JSON: every paper, for Zotero and citation processors",
}


def render_downloads(site: Site, files: dict[str, str]) -> str:
    here = f"{GENERATED}/downloads/index.md"
    rows = [
        (name, href(here, f"{GENERATED}/downloads/{name}"), what, _size(len(files[name].encode("utf-8"))))
        for name, what in DOWNLOADS.items()
    ]
    per_term = []
    for facet in FACETS:
        terms = site.terms[facet]
        items = [
            (terms[t].label, href(here, f"{GENERATED}/downloads/bibtex/{facet}/{t}.bib"), len(ids))
            for t, ids in site.term_papers[facet].items()
            if ids
        ]
        if items:
            per_term.append((site.facet_label(facet), items))
    c = site.cat
    counts = f"{len(c.papers)} papers, {len(c.datasets)} datasets, {len(c.metrics)} metrics"
    return md_page(
        "Downloads", render("downloads.html.j2", files=rows, per_term=per_term, counts=counts), SEARCH_EXCLUDE
    )


def render_home(site: Site, figs: list[figures.Figure]) -> str:
    """The snippet that site/index.md includes: statistics, figures and the modality x setting matrix."""
    here = "index.md"
    papers = list(site.cat.papers.values())
    with_code = sum(1 for p in papers if p.code)
    stats = {
        "papers": len(papers),
        "attacks": sum(p.kind == "attack" for p in papers),
        "defenses": sum(p.kind == "defense" for p in papers),
        "other": sum(p.kind not in ("attack", "defense") for p in papers),
        "datasets": len(site.cat.datasets),
        "metrics": len(site.cat.metrics),
        "modules": len(site.modules),
        "with_code": with_code,
        "code_share": f"{100 * with_code / len(papers):.0f}%" if papers else "0%",
    }
    shown = [
        {
            "src": href(here, f"{GENERATED}/figures/{f.name}.svg"),
            "alt": f.alt,
            "caption": f.caption,
            "width": f.width,
            "height": f.height,
        }
        for f in figs
    ]
    matrix = figures.modality_setting_matrix(site.cat, href(here, "explore.md"))
    return _guard(render("home.html.j2", stats=stats, figures=shown, matrix=matrix))


# --- the whole site --------------------------------------------------------------------------------


def read_config(root: Path) -> dict:
    """repo_url and site_url from mkdocs.yml: the one place the repository's address is written."""
    path = root / "mkdocs.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return {"repo_url": (config.get("repo_url") or "").rstrip("/"), "site_url": config.get("site_url")}


def render_site(cat: Catalog, root: Path, config: dict | None = None) -> dict[str, str | bytes]:
    """Every generated file: path relative to site/generated/ -> content. The catalogue must have no problems.
    `config` ({"repo_url", "site_url"}) replaces what mkdocs.yml says (tests)."""
    if cat.problems:
        raise ValueError(f"the catalogue has {len(cat.problems)} problem(s); run `python -m tools validate`")
    config = {**read_config(root), **(config or {})}
    bib = export.bibtex_entries(cat)
    site = Site(
        cat, root, config["repo_url"], bib, refcode.read_modules(root), {f: export.term_papers(cat, f) for f in FACETS}
    )
    out: dict[str, str | bytes] = {}

    def put(docs_path: str, content: str | bytes) -> None:
        out[docs_path.removeprefix(GENERATED + "/")] = content

    for pid in sorted(cat.papers):
        put(paper_page(pid), render_paper(site, cat.papers[pid]))
    put(f"{GENERATED}/taxonomy/index.md", render_taxonomy_index(site))
    for facet in FACETS:
        put(facet_page(facet), render_facet(site, facet))
        for term in cat.terms[facet]:
            put(term_page(facet, term), render_term(site, facet, term))
    for kind, records, one in (("datasets", cat.datasets, render_dataset), ("metrics", cat.metrics, render_metric)):
        put(f"{GENERATED}/{kind}/index.md", render_record_index(site, kind))
        for rid in records:
            put(f"{GENERATED}/{kind}/{rid}.md", one(site, rid))
    put(f"{GENERATED}/reference/index.md", render_module_index(site))
    if site.has_results:
        page, plots = render_results(site)
        put(RESULTS_PAGE, page)
        for fig in plots:
            put(f"{GENERATED}/reference/{fig.name}.svg", render("figure.svg.j2", fig=fig))
    for name, path in site.grids.items():
        put(f"{GENERATED}/reference/{name}.png", path.read_bytes())
    for mod in site.modules.values():
        put(f"{GENERATED}/reference/{mod.name}.md", render_module(site, mod))
    put(f"{GENERATED}/whats-new.md", render_whats_new(site))
    put(HELP_WANTED, render_help_wanted(site))
    put(EXPERIMENTS_PAGE, render_help_experiments(site))
    put(CONTRIBUTING_PAGE, render_contributing(root, config["repo_url"]))
    put(f"{GENERATED}/feed.xml", render_feed(site, config["site_url"]))
    downloads = export.render_exports(cat, bib)
    for name, text in downloads.items():
        put(f"{GENERATED}/downloads/{name}", text)
    put(f"{GENERATED}/downloads/index.md", render_downloads(site, downloads))
    put(f"{GENERATED}/explore.json", explore.explore_json(cat, f"{PAPERS}/{{id}}.html"))
    put(f"{GENERATED}/explore-summaries.json", explore.summaries_json(cat))
    figs = figures.home_figures(cat)
    for fig in figs:
        put(f"{GENERATED}/figures/{fig.name}.svg", render("figure.svg.j2", fig=fig))
    put(f"{GENERATED}/_snippets/home.html", render_home(site, figs))
    return out


def gzip_size(content: str | bytes) -> int:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return len(gzip.compress(data, compresslevel=9, mtime=0))
