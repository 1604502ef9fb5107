"""Hostile text that passes the validator stays inert all the way into the built HTML.

Every text field of every record type carries a payload marked PWNED: attribute breakouts, Markdown
links and images with dangerous targets, snippet-include lines, template-looking braces, entities.
The site is built for real (generation + `mkdocs build --strict`) and every HTML page is parsed:
the marker may appear only as text or inside an escaped attribute value, never as markup.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import REPO, write_catalog
from tools.catalog import load_catalog
from tools.site import build

MARK = "PWNED"
TITLE = f"Title {MARK}\" onmouseover=\"alert(1) & 'x' [a](javascript:alert(1)) ![i](https://evil.example/{MARK}.png)"
AUTHOR = f'Jane "{MARK}" ](javascript:alert(1)) Doe'
TLDR = (
    f"{MARK} &lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1) `x` $y$ <3\n"
    f'--8<-- "mkdocs.yml"\n[click](javascript:alert("{MARK}")) {{ raw }} }}}} %}} | a | b |'
)
TEXT = f"{MARK} \"quoted\" 'single' [l](vbscript:msgbox) &amp; {{braces}}"
URL = f"https://example.org/p?q={MARK}&next=%22%3E%3Cscript%3E"


class Audit(HTMLParser):
    """Records everything in a page where data could turn into markup or code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if MARK.lower() in tag.lower():
            self.problems.append(f"element <{tag}> made from data")
        for name, value in attrs:
            value = value or ""
            if MARK.lower() in name.lower() or name.lower() in ("onmouseover",):
                self.problems.append(f"attribute {name!r} on <{tag}> made from data")
            if name.lower().startswith("on") and MARK in value:
                self.problems.append(f"event handler {name}={value!r} carries data")
            if name.lower() in ("href", "src", "action", "formaction", "xlink:href"):
                lowered = value.strip().lower()
                if lowered.startswith(("javascript:", "vbscript:")) or (lowered.startswith("data:") and MARK in value):
                    self.problems.append(f"<{tag} {name}={value!r}>: dangerous URL")
                relative = lowered.startswith(("/", "./", "../", "#")) or ":" not in lowered.split("/")[0]
                if MARK in value and not relative and not lowered.startswith(("http://", "https://")):
                    self.problems.append(f"<{tag} {name}={value!r}>: data in a non-http URL")
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARK in data:
            self.problems.append(f"data inside a <script> element: {data[:80]!r}")


def _hostile_catalog(root: Path) -> None:
    write_catalog(root)
    build.copy_sources(REPO, root, with_catalog=False)
    cat = root / "catalog"
    paper = cat / "papers" / "doe2021example.yaml"
    text = paper.read_text(encoding="utf-8")
    text = text.replace('title: "An Example Attack on Example Models"', f"title: {json.dumps(TITLE)}")
    text = text.replace("  - Jane Doe", f"  - {json.dumps(AUTHOR)}")
    text = text.replace("tldr: A made-up paper used to test the validator.", f"tldr: {json.dumps(TLDR)}")
    text = text.replace("url: https://example.org/paper", f"url: {URL}")
    text = text.replace("  - https://github.com/example/attack", f"  - https://github.com/{MARK}/attack")
    paper.write_text(text, encoding="utf-8")
    dataset = cat / "datasets" / "toyset.yaml"
    dataset.write_text(
        dataset.read_text(encoding="utf-8")
        .replace('contents: "10 images of 2 classes."', f"contents: {json.dumps(TEXT)}")
        .replace("name: ToySet", f"name: {json.dumps('Toy ' + MARK + ' *set*')}"),
        encoding="utf-8",
    )
    metric = cat / "metrics" / "toymetric.yaml"
    metric.write_text(
        metric.read_text(encoding="utf-8")
        .replace('measures: "How toy a reconstruction is."', f"measures: {json.dumps(TEXT)}")
        .replace('definition: "$t = 1$"', f"definition: {json.dumps('$t = 1$ ' + TEXT)}"),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    _hostile_catalog(root)
    problems = load_catalog(root).problems
    assert not problems, "the payloads must pass the validator for this test to mean anything: " + str(problems)
    assert build.build(root) == 0
    return root / "build" / "site"


def test_audit_catches_injected_markup() -> None:
    """The auditor itself can fail: each kind of injection it looks for is reported."""
    audit = Audit()
    audit.feed(
        f'<a href="javascript:{MARK}">x</a><div onmouseover="{MARK}"></div><script>var t="{MARK}"</script>'
        f'<img src="data:text/html,{MARK}"><a href="mailto:{MARK}">m</a>'
    )
    reported = "\n".join(audit.problems)
    for injected in ("javascript:PWNED", "onmouseover", "<script> element", "data:text/html", "mailto:PWNED"):
        assert injected in reported, (injected, audit.problems)


def test_payloads_reach_the_site(hostile_site: Path) -> None:
    """Guard against a vacuous pass: the marked data really is on the pages we audit."""
    page = (hostile_site / "generated" / "papers" / "doe2021example.html").read_text(encoding="utf-8")
    assert page.count(MARK) >= 4
    assert "&lt;script&gt;" not in page.replace("&amp;lt;script&amp;gt;", "")  # entities shown as written


def test_no_markup_or_code_from_data_on_any_page(hostile_site: Path) -> None:
    problems = []
    pages = list(hostile_site.rglob("*.html"))
    assert len(pages) > 10
    for html in pages:
        audit = Audit()
        audit.feed(html.read_text(encoding="utf-8"))
        problems += [f"{html.relative_to(hostile_site)}: {p}" for p in audit.problems]
    assert not problems, "\n".join(problems[:30])


def test_snippet_line_in_data_is_not_expanded(hostile_site: Path) -> None:
    page = (hostile_site / "generated" / "papers" / "doe2021example.html").read_text(encoding="utf-8")
    assert "site_name" not in page and "docs_dir" not in page


def test_feed_keeps_data_as_text(hostile_site: Path) -> None:
    """The Atom feed parses, and the hostile title comes back as text in the right element only."""
    for path in hostile_site.rglob("*.xml"):
        tree = ET.parse(path)
        for element in tree.iter():
            assert "script" not in element.tag.lower(), (path, element.tag)
            assert not any(MARK in name for name in element.attrib), (path, element.attrib)
        if path.name == "feed.xml":
            titles = [e.text for e in tree.iter("{http://www.w3.org/2005/Atom}title")]
            assert TITLE in titles
