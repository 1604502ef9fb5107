"""Whole-site builds (`python -m tools build` in a scratch copy): every page exists, every internal
link resolves, data shows up exactly as written, and the search index covers the papers."""

from __future__ import annotations

import html
import json
import posixpath
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from tests.conftest import REPO, write_catalog
from tools.catalog import load_catalog
from tools.site import build


class Page(HTMLParser):
    """Collects a built page's link targets, element ids and the text of its first <h1>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.h1: list[str] = []
        self._in_h1 = False
        self._h1_done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name) and tag in ("a", "link", "script", "img"):
                self.links.append(attrs[name])
        if tag == "h1" and not self._h1_done:
            self._in_h1 = True

    def handle_endtag(self, tag):
        if tag == "h1" and self._in_h1:
            self._in_h1, self._h1_done = False, True

    def handle_data(self, data):
        if self._in_h1:
            self.h1.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def built(root: Path) -> Path:
    assert build.build(root) == 0
    return root / "build" / "site"


@pytest.fixture(scope="module")
def real_site(tmp_path_factory) -> tuple[Path, object]:
    root = build.copy_sources(REPO, tmp_path_factory.mktemp("real"))
    return built(root), load_catalog(root)


def broken_links(site: Path) -> list[str]:
    broken = []
    for html in site.rglob("*.html"):
        if html.name == "404.html" and html.parent == site:
            continue  # served at any depth, so MkDocs writes its links from the root on purpose
        page_dir = html.parent.relative_to(site).as_posix()
        for link in parse(html).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith(("#", "//", "mailto:")):
                continue
            target = posixpath.normpath(posixpath.join(page_dir, unquote(parts.path))) if parts.path else page_dir
            path = site / target
            if not (path.is_file() or (path / "index.html").is_file()):
                broken.append(f"{html.relative_to(site)} -> {link}")
    return broken


def test_every_internal_link_resolves(real_site):
    site, _ = real_site
    assert broken_links(site) == []


def test_a_built_page_for_every_record(real_site):
    site, cat = real_site
    for pid, paper in cat.papers.items():
        page = site / "generated" / "papers" / f"{pid}.html"
        assert "".join(parse(page).h1).strip() == paper.title
    for facet, terms in cat.terms.items():
        for term in terms:
            assert (site / "generated" / "taxonomy" / facet / f"{term}.html").is_file()
    for did in cat.datasets:
        assert (site / "generated" / "datasets" / f"{did}.html").is_file()
    for mid in cat.metrics:
        assert (site / "generated" / "metrics" / f"{mid}.html").is_file()
    for name in ("catalogue.json", "catalogue.bib", "papers.csv", "catalogue.csl.json", "catalogue.schema.json"):
        assert (site / "generated" / "downloads" / name).is_file()
    # The contributing guide is a page of the site, reached from every page's navigation.
    assert "".join(parse(site / "generated" / "contributing.html").h1).strip().rstrip("¶") == "Contributing"
    assert 'href="generated/contributing.html"' in (site / "index.html").read_text(encoding="utf-8")


def test_atom_feed_lists_the_newest_entries_with_working_links(real_site):
    site, cat = real_site
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(site / "generated" / "feed.xml").getroot()
    entries = feed.findall(f"{atom}entry")
    newest = sorted(cat.papers.values(), key=lambda p: (p.added, p.id), reverse=True)[: len(entries)]
    assert len(entries) == min(50, len(cat.papers))
    assert [e.find(f"{atom}title").text for e in entries] == [p.title for p in newest]
    for entry in entries:
        link = entry.find(f"{atom}link").get("href")
        assert (site / "generated" / link).is_file(), link


def test_search_index_has_papers_not_long_lists(real_site):
    site, cat = real_site
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert {f"generated/papers/{pid}.html" for pid in cat.papers} <= locations
    # A term page is found by its name (searching "gradient inversion" should offer the term's page), but
    # its paper table stays out of the index: no paper title is repeated there.
    term = next(d for d in index["docs"] if d["location"] == "generated/taxonomy/attack_family/gradient-inversion.html")
    assert term["title"] == "Gradient inversion (Attack family)" and term["boost"] > 1
    assert not any(p.title in term["text"] for p in cat.papers.values())
    assert not any(loc.startswith(("generated/whats-new", "generated/help-wanted")) for loc in locations)
    paper = cat.papers["zhang2020gmi"]
    doc = next(d for d in index["docs"] if d["location"] == "generated/papers/zhang2020gmi.html")
    assert paper.title in doc["title"] and "@inproceedings" not in doc["text"]
    assert "Cite as" not in doc["text"] and "BibTeX" not in doc["text"]  # headings of excluded blocks


BADGES_ONLY = re.compile(r"<p>(attack|defense|survey|benchmark|tool|analysis)( (code|ref|incomplete))*</p>")


def test_search_index_drops_boilerplate_but_finds_titles_authors_summaries_and_records(real_site):
    # The index loads on a visitor's first page; tables that repeat other pages, badges, venues' long
    # names and navigation made up an eighth of it without helping anyone find anything.
    site, cat = real_site
    docs = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    by_location = {d["location"]: d for d in docs}
    papers = {loc: d for loc, d in by_location.items() if loc.startswith("generated/papers/")}
    for pid, paper in cat.papers.items():
        doc = papers[f"generated/papers/{pid}.html"]
        assert doc["title"] == html.escape(paper.title, quote=False)
        assert not BADGES_ONLY.search(doc["text"]) and "Authors not yet verified" not in doc["text"], pid
        assert all(html.escape(name, quote=False) in doc["text"] for name in paper.authors), pid
        if paper.tldr:
            assert html.escape(paper.tldr.split(".")[0], quote=False) in doc["text"], pid
        venue = cat.venues.get(paper.venue)
        if venue and venue.short != venue.name:
            assert f" {html.escape(venue.short, quote=False)}, {paper.year}" in doc["text"], pid
            assert f"({html.escape(venue.name, quote=False)})" not in doc["text"], pid
    # Index pages' tables repeat their records' own pages: out. The records' pages: in.
    for kind, records in (("datasets", cat.datasets), ("metrics", cat.metrics)):
        index = by_location[f"generated/{kind}/index.html"]["text"]
        assert not any(html.escape(r.name, quote=False) in index for r in records.values()), kind
        for rid, record in records.items():
            assert by_location[f"generated/{kind}/{rid}.html"]["title"].startswith(html.escape(record.name, quote=False))
    celeba = by_location["generated/datasets/celeba.html"]
    assert "face images" in celeba["text"] and "Papers that evaluate" not in celeba["text"]
    # Measured numbers and navigation are not searched for.
    results = [d for loc, d in by_location.items() if loc.startswith("generated/reference/")]
    assert results and not any("Attack success, defended" in d["text"] for d in results)
    assert not any("<p>Reference code</p>" in d["text"] for d in results)  # the breadcrumbs
    term = by_location["generated/taxonomy/attack_family/gradient-inversion.html"]
    assert "Reconstructs training inputs" in term["text"] and "Open in Explore" not in term["text"]
    assert "Taxonomy ›" not in term["text"]
    # A page's heading repeats its title (which has its own field), and sub-terms are pages of their own:
    # a search result showed each twice.
    assert not term["text"].startswith("Gradient inversion") and "Sub-terms" not in term["text"]
    assert "Optimisation-based gradient matching" not in term["text"]
    assert not celeba["text"].startswith("CelebA")


def test_no_page_links_a_placeholder_repository_or_host(real_site):
    # repo_url was a made-up address: every page's header linked it and thousands of edit links led nowhere.
    # Until mkdocs.yml names the real one, nothing on the site may depend on it; the feed's links stay
    # relative until site_url is set.
    site, _ = real_site
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'href="#"' not in text and "mi-catalogue/mi-catalogue" not in text and "example.org" not in text, page
        assert config.get("repo_url") or 'data-md-component="source"' not in text, page
    atom = "{http://www.w3.org/2005/Atom}"
    links = [e.get("href") for e in ET.parse(site / "generated" / "feed.xml").getroot().iter(f"{atom}link")]
    assert links
    if config.get("site_url"):
        assert all(link.startswith(config["site_url"].rstrip("/") + "/") for link in links)
    else:
        assert not any("://" in link for link in links)


def test_strict_build_fails_on_a_broken_link(tmp_path):
    root = write_catalog(tmp_path)
    build.copy_sources(REPO, root, with_catalog=False)
    page = root / "site" / "about.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[broken](nowhere.md)\n", encoding="utf-8")
    assert build.build(root) != 0


TRICKY_TITLE = "Attacks Where 5 < 7 & \"Quotes\" 'Apostrophes' *Stars* _Under_ $x$ --8<-- [l](u) Ünïcode"
TRICKY_TLDR = 'Plain words.\n--8<-- "mkdocs.yml"\n    indented like code\n# not a heading'


def test_data_that_looks_like_markup_shows_as_written(tmp_path):
    root = write_catalog(tmp_path)
    build.copy_sources(REPO, root, with_catalog=False)
    paper = root / "catalog" / "papers" / "doe2021example.yaml"
    text = paper.read_text(encoding="utf-8")
    text = text.replace('title: "An Example Attack on Example Models"', f"title: {json.dumps(TRICKY_TITLE)}")
    text = text.replace("tldr: A made-up paper used to test the validator.", f"tldr: {json.dumps(TRICKY_TLDR)}")
    paper.write_text(text, encoding="utf-8")
    assert not load_catalog(root).problems
    site = built(root)
    page = site / "generated" / "papers" / "doe2021example.html"
    html = page.read_text(encoding="utf-8")
    assert "".join(parse(page).h1).strip() == TRICKY_TITLE
    assert "site_name" not in html  # the snippet line was not expanded
    assert "<em>Stars</em>" not in html and "<pre><code>indented" not in html
    assert broken_links(site) == []
