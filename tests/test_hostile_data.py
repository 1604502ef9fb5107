"""Hostile contributions on the data path: refused by the validator with a clear message, never a crash.

Each class of hostile input from the security issue has a case here; the site tests check that
whatever text does get through is inert in the built HTML.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import VALID_PAPER, write_catalog
from tools.catalog import load_catalog

PAPER = "catalog/papers/doe2021example.yaml"
PROBLEM_LINE = re.compile(r"^catalog/[^:]+:\d+: .+: .+")


def _with_title(root: Path, title_yaml: str) -> list[str]:
    text = VALID_PAPER.replace('title: "An Example Attack on Example Models"', f"title: {title_yaml}")
    (root / PAPER).write_text(text, encoding="utf-8")
    return [str(p) for p in load_catalog(root).problems]


@pytest.mark.parametrize(
    "title,fragment",
    [
        ('"<script>alert(1)</script>"', "HTML tag"),
        ('"Nice <img src=x onerror=alert(1)> title"', "HTML tag"),
        ('"</textarea><svg onload=alert(1)>"', "HTML tag"),
        ('"<!-- comment -->"', "HTML tag"),
        ('"{{ config.__class__ }}"', "template syntax"),
        ("\"{% include '/etc/passwd' %}\"", "template syntax"),
        ('"{# hidden #}"', "template syntax"),
        ('"safe\\u202egnp.exe"', "bidirectional"),
        ('"zero\\u200bwidth"', "invisible"),
        ('"line\\u0007bell"', "control character"),
    ],
    ids=[
        "script",
        "img-onerror",
        "svg",
        "comment",
        "jinja-expr",
        "jinja-stmt",
        "jinja-comment",
        "bidi",
        "zero-width",
        "bell",
    ],
)
def test_markup_template_and_invisible_text_refused(catalog_root: Path, title: str, fragment: str) -> None:
    problems = _with_title(catalog_root, title)
    assert any(p.startswith(f"{PAPER}:2: title:") and fragment in p for p in problems), problems


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("url", "javascript:alert(1)", "not an http(s) URL"),
        ("url", "data:text/html;base64,PHNjcmlwdD4=", "not an http(s) URL"),
        ("url", "vbscript:msgbox(1)", "not an http(s) URL"),
        ("url", "https://evil.example/%0d%0aSet-Cookie", None),  # encoded bytes are fine: they stay encoded
        ("url", '"https://example.org/a b"', "whitespace"),
        ("url", "https://admin:secret@example.org/", "credentials"),
        ("url", "//example.org/no-scheme", "not an http(s) URL"),
        ("url", """'https://example.org/x"onmouseover=alert(1)'""", "must percent-encode"),
        ("url", "https://example.org/<script>", "must percent-encode"),
        ("tldr", '"[click](javascript:alert(1))"', None),  # plain text: shown literally, escaped by the site
    ],
    ids=[
        "js",
        "data",
        "vbscript",
        "encoded",
        "space",
        "credentials",
        "scheme-relative",
        "quote-breakout",
        "angle",
        "markdown-link",
    ],
)
def test_urls(catalog_root: Path, field: str, value: str, fragment: str | None) -> None:
    original = {"url": "url: https://example.org/paper", "tldr": "tldr: A made-up paper used to test the validator."}[
        field
    ]
    text = VALID_PAPER.replace(original, f"{field}: {value}")
    (catalog_root / PAPER).write_text(text, encoding="utf-8")
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    if fragment is None:
        assert problems == []
    else:
        assert any(f": {field}: " in p and fragment in p for p in problems), problems


@pytest.mark.parametrize(
    "name,record_id,fragment",
    [
        ("dotdot.yaml", "../../etc/passwd", "wrong form"),
        ("abs.yaml", "/etc/passwd", "wrong form"),
        ("nul.yaml", "nul", "reserved file name"),
        ("Doe2021example.yaml", "Doe2021example", "only by case"),
    ],
    ids=["traversal", "absolute", "reserved", "case-collision"],
)
def test_ids_and_file_names(catalog_root: Path, name: str, record_id: str, fragment: str) -> None:
    text = VALID_PAPER.replace("id: doe2021example", f"id: {record_id}")
    (catalog_root / "catalog/papers" / name).write_text(text, encoding="utf-8")
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any(fragment in p for p in problems), problems


def test_non_nfc_title_is_normalised_before_duplicate_detection(catalog_root: Path) -> None:
    composed = "Café Attacks on Models"
    decomposed = "Cafe\u0301 Attacks on Models"
    _with_title(catalog_root, f'"{composed}"')
    other = (
        VALID_PAPER.replace("id: doe2021example", "id: doe2021other")
        .replace('title: "An Example Attack on Example Models"', f'title: "{decomposed}"')
        .replace("doi: 10.1109/CVPR46437.2021.00001", "doi: 10.1234/other")
        .replace('arxiv: "2101.00001"', 'arxiv: "2101.00009"')
    )
    (catalog_root / "catalog/papers/doe2021other.yaml").write_text(other, encoding="utf-8")
    cat = load_catalog(catalog_root)
    assert any("near-identical (100%)" in str(p) for p in cat.problems), cat.problems
    only = load_catalog(catalog_root)  # both records parsed; the stored title is NFC
    assert only.papers["doe2021other"].title == composed


def test_symlink_refused(catalog_root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: x\n", encoding="utf-8")
    (catalog_root / "catalog/datasets/link.yaml").symlink_to(secret)
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any("link.yaml" in p and "plain .yaml files" in p for p in problems), problems


# --- property-based: any file content gives problems or a valid record, never an exception ----------

_yamlish = st.text(
    alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#%@`\n\t ,?<=0123456789\u202e\u200b\x00é")), max_size=200
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(_yamlish, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_any_file_content_gives_clear_problems(tmp_path_factory, content: str) -> None:
    root = write_catalog(tmp_path_factory.mktemp("cat"))
    (root / PAPER).write_bytes(content.encode("utf-8", "surrogatepass"))
    cat = load_catalog(root)  # must not raise
    for problem in cat.problems:
        assert PROBLEM_LINE.match(str(problem)), str(problem)
    assert cat.problems or "doe2021example" in cat.papers


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(
        ["title", "year", "venue", "url", "kind", "tldr", "authors", "modality", "doi", "arxiv", "added"]
    ),
    value=st.one_of(st.text(max_size=60), st.integers(), st.none(), st.lists(st.text(max_size=10), max_size=3)),
)
def test_any_field_value_gives_clear_problems_or_valid(tmp_path_factory, field: str, value) -> None:
    import yaml

    root = write_catalog(tmp_path_factory.mktemp("cat"))
    data = yaml.safe_load(VALID_PAPER)
    data[field] = value
    (root / PAPER).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cat = load_catalog(root)
    for problem in cat.problems:
        assert PROBLEM_LINE.match(str(problem)), str(problem)
    if not cat.problems:
        paper = cat.papers["doe2021example"]
        text = paper.title + (paper.tldr or "")
        assert "<" not in text or not re.search(r"<\s*/?\s*[a-zA-Z!?]", text)
