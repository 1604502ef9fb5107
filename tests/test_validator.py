"""The validator: one broken-catalogue fixture per error class, each failing with its message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, VALID_PAPER
from tools.catalog import find_title_duplicates, load_catalog, title_key
from tools.schema import render_schemas

PAPER = "catalog/papers/doe2021example.yaml"


def test_valid_catalog_has_no_problems(catalog_root: Path) -> None:
    cat = load_catalog(catalog_root)
    assert cat.problems == []
    assert set(cat.papers) == {"doe2021example"}
    assert set(cat.datasets) == {"toyset"} and set(cat.metrics) == {"toymetric"}
    assert "cvpr" in cat.venues and "generative-prior" in cat.terms["attack_family"]


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# (name, file, old text, new text, expected field, expected message fragment, expected line)
BROKEN = [
    (
        "unknown-key",
        PAPER,
        "kind: attack",
        "kind: attack\nvenu: cvpr",
        "venu",
        "unknown field 'venu'; did you mean 'venue'?",
        14,
    ),
    ("missing-field", PAPER, "url: https://example.org/paper\n", "", "url", "required field is missing", 1),
    (
        "missing-tldr",
        PAPER,
        "tldr: A made-up paper used to test the validator.\n",
        "",
        "tldr",
        "required field is missing: add a tldr in your own words, or, if no source confirms it, `unverified: [tldr]`",
        1,
    ),
    (
        "split-hyphen",
        PAPER,
        "tldr: A made-up paper used to test the validator.\n",
        "tldr: >-\n  A made-up paper about black-\n  box attackers, pre- and post-training.\n",
        "tldr",
        "'black- box' has a space after a hyphen, usually a folded line that ends in 'black-': keep 'black-box' on one line",
        20,
    ),
    (
        "missing-authors",
        PAPER,
        "authors:\n  - Jane Doe\n  - John Roe\n",
        "",
        "authors",
        "required field is missing: add the author list, or, if no source confirms it, `unverified: [authors]`",
        1,
    ),
    (
        "unverified-but-present",
        PAPER,
        "added: 2026-11-28",
        "added: 2026-11-28\nunverified: [authors]",
        "unverified",
        "'authors' is listed as unverified but the entry has it: remove 'authors' from unverified",
        22,
    ),
    (
        "unverified-vocabulary",
        PAPER,
        "added: 2026-11-28",
        "added: 2026-11-28\nunverified: [venue]",
        "unverified.0",
        "'venue' is not allowed; use one of: authors, tldr",
        22,
    ),
    ("wrong-type-year", PAPER, "year: 2021", "year: twenty", "year", "valid integer", 6),
    ("year-range", PAPER, "year: 2021", "year: 1850", "year", "greater than or equal to 1990", 6),
    ("kind-vocabulary", PAPER, "kind: attack", "kind: atack", "kind", "did you mean 'attack'?", 13),
    ("id-pattern", PAPER, "id: doe2021example", "id: Doe_2021", "id", "wrong form", 1),
    (
        "id-not-file-name",
        PAPER,
        "id: doe2021example",
        "id: doe2021other",
        "id",
        "must equal the file name 'doe2021example'",
        1,
    ),
    (
        "doi-format",
        PAPER,
        "doi: 10.1109/CVPR46437.2021.00001",
        "doi: https://doi.org/10.1109/x",
        "doi",
        "write the bare DOI",
        8,
    ),
    ("doi-garbage", PAPER, "doi: 10.1109/CVPR46437.2021.00001", "doi: not-a-doi", "doi", "is not a DOI", 8),
    ("arxiv-version", PAPER, 'arxiv: "2101.00001"', 'arxiv: "2101.00001v2"', "arxiv", "drop the version suffix", 9),
    ("arxiv-format", PAPER, 'arxiv: "2101.00001"', "arxiv: arXiv:2101.00001", "arxiv", "is not an arXiv ID", 9),
    (
        "url-scheme",
        PAPER,
        "url: https://example.org/paper",
        "url: javascript:alert(1)",
        "url",
        "not an http(s) URL",
        10,
    ),
    (
        "url-credentials",
        PAPER,
        "url: https://example.org/paper",
        "url: https://user:pw@example.org/p",
        "url",
        "credentials",
        10,
    ),
    (
        "code-url",
        PAPER,
        "  - https://github.com/example/attack",
        "  - ftp://example.org/code",
        "code.0",
        "not an http(s) URL",
        12,
    ),
    (
        "unknown-venue",
        PAPER,
        "venue: cvpr",
        "venue: cvrp",
        "venue",
        "not a known venue (catalog/venues.yaml); did you mean 'cvpr'?",
        7,
    ),
    (
        "unknown-term",
        PAPER,
        "attack_family: [generative-prior]",
        "attack_family: [generative-priors]",
        "attack_family",
        "did you mean 'generative-prior'?",
        14,
    ),
    (
        "term-wrong-facet",
        PAPER,
        "modality: [image]",
        "modality: [federated]",
        "modality",
        "not a known modality term",
        15,
    ),
    ("unknown-dataset", PAPER, "datasets: [toyset]", "datasets: [toyst]", "datasets", "did you mean 'toyset'?", 18),
    ("unknown-metric", PAPER, "metrics: [toymetric]", "metrics: [nometric]", "metrics", "not a known metric", 19),
    (
        "missing-implementation",
        PAPER,
        "kind: attack",
        "kind: attack\nimplementation: mi_ref.nonexistent",
        "implementation",
        "does not exist",
        14,
    ),
    (
        "attack-without-family",
        PAPER,
        "attack_family: [generative-prior]",
        "attack_family: []",
        "attack_family",
        "needs at least one attack_family term",
        14,
    ),
    ("duplicate-list-item", PAPER, "modality: [image]", "modality: [image, image]", "modality", "listed twice", 15),
    ("invisible-character", PAPER, 'title: "An Example', 'title: "An\u200b Example', "title", "invisible", 2),
    ("bidi-control", PAPER, 'title: "An Example', 'title: "An\u202e Example', "title", "bidirectional", 2),
    (
        "empty-title",
        PAPER,
        'title: "An Example Attack on Example Models"',
        'title: "  "',
        "title",
        "must not be empty",
        2,
    ),
    ("duplicate-key", PAPER, "year: 2021", "year: 2021\nyear: 2022", "(file)", "duplicate key 'year'", 7),
    ("yaml-alias", PAPER, "modality: [image]", "modality: &m [image]\nsetting_copy: *m", "(file)", "anchors", 15),
    ("yaml-tag", PAPER, "year: 2021", "year: !!python/object:os.system 2021", "(file)", "tag", 6),
    ("yaml-syntax", PAPER, "year: 2021", "year: [2021", "(file)", "YAML syntax error", 0),
    ("tab", PAPER, "year: 2021", "year:\t2021", "(file)", "tab character", 6),
    ("not-a-mapping", PAPER, VALID_PAPER, "- just\n- a list\n", "(file)", "must be a mapping", 1),
    (
        "dataset-role",
        "catalog/datasets/toyset.yaml",
        "roles: [private]",
        "roles: [secret]",
        "roles.0",
        "use one of: private",
        5,
    ),
    (
        "metric-direction",
        "catalog/metrics/toymetric.yaml",
        "direction: higher",
        "direction: up",
        "direction",
        "use one of: higher, lower",
        5,
    ),
    ("venue-type", "catalog/venues.yaml", "type: preprint", "type: blog", "venues.0.type", "use one of: conference", 7),
    (
        "term-parent",
        "catalog/taxonomy.yaml",
        "parent: gradient-inversion",
        "parent: gradient-inversio",
        "attack_family.gradient-optimisation.parent",
        "did you mean 'gradient-inversion'?",
        15,
    ),
]


@pytest.mark.parametrize("name,rel,old,new,field,message,line", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_catalog_reports_problem(catalog_root: Path, name, rel, old, new, field, message, line) -> None:
    _edit(catalog_root, rel, old, new)
    problems = load_catalog(catalog_root).problems
    matching = [p for p in problems if p.path == rel and p.field == field and message in p.message]
    assert matching, f"expected {rel}: {field}: ...{message}... in:\n" + "\n".join(map(str, problems))
    if line:
        assert matching[0].line == line, str(matching[0])


def _second_paper(root: Path, pid: str, **changes: str) -> None:
    text = VALID_PAPER.replace("id: doe2021example", f"id: {pid}")
    for old, new in changes.items():
        text = text.replace(old, new)
    (root / "catalog" / "papers" / f"{pid}.yaml").write_text(text, encoding="utf-8")


def test_duplicate_doi(catalog_root: Path) -> None:
    _second_paper(
        catalog_root, "doe2021copy", **{'arxiv: "2101.00001"': 'arxiv: "2101.00002"', "Example Attack": "Other Thing"}
    )
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any(
        "doi: DOI 10.1109/CVPR46437.2021.00001 is already used by catalog/papers/doe2021copy.yaml" in p
        and p.startswith(PAPER)
        for p in problems
    ), problems


def test_duplicate_arxiv(catalog_root: Path) -> None:
    _second_paper(
        catalog_root,
        "doe2021copy",
        **{"doi: 10.1109/CVPR46437.2021.00001": "doi: 10.1109/other.1", "Example Attack": "Other Thing"},
    )
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any("arXiv ID 2101.00001 is already used" in p for p in problems), problems


def test_near_identical_title(catalog_root: Path) -> None:
    # Different identifiers, same title up to case, punctuation and a homoglyph (Cyrillic 'а').
    _second_paper(
        catalog_root,
        "doe2021copy",
        **{
            "doi: 10.1109/CVPR46437.2021.00001": "doi: 10.1109/other.1",
            'arxiv: "2101.00001"': 'arxiv: "2101.00002"',
            "An Example Attack on Example Models": "an exаmple attack on example models!",
        },
    )
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any("title: title is near-identical" in p and "doe2021copy" in p for p in problems), problems


def test_title_key_normalises_unicode_and_homoglyphs() -> None:
    assert title_key("Café: Déjà Vu") == title_key("CAFE — deja vu")
    assert title_key("Model Inversion") == title_key("Mоdel Inversion")  # Cyrillic о
    assert title_key("Model Inversion") != title_key("Model Extraction")


def test_title_duplicates_blocking_finds_typos_and_ignores_distinct() -> None:
    titles = {
        "a": "Deep Leakage from Gradients",
        "b": "Deep Leakage from Gradient",  # typo at the end: caught through the shared head block
        "c": "Inverting Gradients - How easy is it to break privacy in federated learning?",
        "d": "Invertng Gradients - How easy is it to break privacy in federated learning?",  # typo at the head
        "e": "Deep Models Under the GAN",
    }
    pairs = {(a, b) for a, b, _ in find_title_duplicates(titles)}
    assert pairs == {("a", "b"), ("c", "d")}


def test_problems_collected_across_files(catalog_root: Path) -> None:
    _edit(catalog_root, PAPER, "venue: cvpr", "venue: cvrp")
    _edit(catalog_root, "catalog/metrics/toymetric.yaml", "direction: higher", "direction: up")
    _edit(catalog_root, "catalog/datasets/toyset.yaml", "roles: [private]", "roles: [secret]")
    problems = load_catalog(catalog_root).problems
    assert {p.path for p in problems} >= {PAPER, "catalog/metrics/toymetric.yaml", "catalog/datasets/toyset.yaml"}


def test_case_only_file_name_collision(catalog_root: Path) -> None:
    (catalog_root / "catalog/datasets/ToySet.yaml").write_text("id: ToySet\n", encoding="utf-8")
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any("only by case" in p for p in problems), problems


def test_reserved_file_name(catalog_root: Path) -> None:
    text = (catalog_root / "catalog/datasets/toyset.yaml").read_text().replace("id: toyset", "id: con")
    (catalog_root / "catalog/datasets/con.yaml").write_text(text, encoding="utf-8")
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any("reserved file name" in p for p in problems), problems


@pytest.mark.parametrize(
    "raw,message",
    [
        (b"\xef\xbb\xbfid: toyset\n", "byte-order mark"),
        (b"id: toy\x00set\n", "NUL byte"),
        (b"id: toy\xffset\n", "not valid UTF-8"),
        (b"a: " + b"x" * 70000 + b"\n", "the limit is"),
        (b"a: " + b"[" * 50 + b"]" * 50 + b"\n", "nesting deeper"),
    ],
    ids=["bom", "nul", "non-utf8", "oversized", "deep-nesting"],
)
def test_unreadable_bytes_refused(catalog_root: Path, raw: bytes, message: str) -> None:
    (catalog_root / "catalog/datasets/toyset.yaml").write_bytes(raw)
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any(p.startswith("catalog/datasets/toyset.yaml") and message in p for p in problems), problems


def test_alias_bomb_refused_quickly(catalog_root: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    (catalog_root / "catalog/datasets/toyset.yaml").write_text(bomb, encoding="utf-8")
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any("anchors" in p for p in problems), problems


def test_cli_reports_and_exits_1(catalog_root: Path) -> None:
    _edit(catalog_root, PAPER, "venue: cvpr", "venue: CVRP")
    result = subprocess.run(
        [sys.executable, "-m", "tools", "--root", str(catalog_root), "validate"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 1
    assert f"{PAPER}:7: venue: 'CVRP' is not a known venue (catalog/venues.yaml); did you mean 'cvpr'?" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_summary_and_exit_0(catalog_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools", "--root", str(catalog_root), "validate"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert (
        result.stdout.strip()
        == "catalogue OK: 1 papers, 1 datasets, 1 metrics, " + result.stdout.split("metrics, ")[1].strip()
    )


def test_real_catalog_is_valid() -> None:
    problems = load_catalog(REPO).problems
    assert not problems, "\n".join(map(str, problems[:50]))


def test_committed_schema_is_fresh() -> None:
    for name, text in render_schemas().items():
        path = REPO / "catalog" / "schema" / name
        assert path.exists() and path.read_text(encoding="utf-8") == text, (
            f"catalog/schema/{name} is stale; regenerate it with `python -m tools schema`"
        )
        json.loads(text)


def test_record_files_point_at_their_schema() -> None:
    for folder, schema in (("papers", "paper"), ("datasets", "dataset"), ("metrics", "metric")):
        for path in sorted((REPO / "catalog" / folder).glob("*.yaml")):
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first == f"# yaml-language-server: $schema=../schema/{schema}.schema.json", (
                f"{path.relative_to(REPO)}: first line must be the schema comment"
            )


_RECORD_FILES = sorted((REPO / "catalog").glob("*/*.yaml"))


@pytest.fixture(scope="module")
def real_catalog():
    return load_catalog(REPO)


@pytest.mark.parametrize("path", _RECORD_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in _RECORD_FILES])
def test_each_record(real_catalog, path: Path) -> None:
    """Each catalogue record is its own test case, so a failure names the record."""
    rel = path.relative_to(REPO).as_posix()
    if rel.startswith("catalog/coverage/"):
        pytest.skip("provenance tables are checked by test_coverage.py")
    problems = [str(p) for p in real_catalog.problems if p.path == rel]
    assert not problems, "\n".join(problems)


def test_references_checked_even_when_the_record_has_other_errors(catalog_root: Path) -> None:
    """One run reports every problem: a bad year does not hide a bad venue or an unknown dataset."""
    _edit(catalog_root, PAPER, "year: 2021", "year: twenty")
    _edit(catalog_root, PAPER, "venue: cvpr", "venue: cvrp")
    _edit(catalog_root, PAPER, "datasets: [toyset]", "datasets: [toyst]")
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert any(": year: " in p for p in problems), problems
    assert any(": venue: 'cvrp' is not a known venue" in p for p in problems), problems
    assert any(": datasets: 'toyst' is not a known dataset" in p for p in problems), problems


def test_missing_tldr_is_reported_alongside_other_problems(catalog_root: Path) -> None:
    # One run names every problem: a paper that fails its schema (bad year) is still told its tldr is missing.
    _edit(catalog_root, PAPER, "tldr: A made-up paper used to test the validator.\n", "")
    _edit(catalog_root, PAPER, "year: 2021", "year: twenty")
    fields = {p.field for p in load_catalog(catalog_root).problems if p.path == PAPER}
    assert {"year", "tldr"} <= fields
