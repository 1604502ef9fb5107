"""`python -m tools stats`: figures computed from the catalogue, not typed in."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import VALID_PAPER
from tools import fingerprint
from tools.catalog import load_catalog
from tools.stats import ANY_LIST, report


def _add_paper(root: Path, pid: str, title: str, *edits: tuple[str, str], extra: str = "") -> None:
    """A second valid paper beside the fixture's: its own ID, title and arXiv ID, no DOI, then `edits`."""
    text = (
        VALID_PAPER.replace("id: doe2021example", f"id: {pid}")
        .replace("An Example Attack on Example Models", title)
        .replace("doi: 10.1109/CVPR46437.2021.00001\n", "")
        .replace('arxiv: "2101.00001"', 'arxiv: "2202.00002"')
    )
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    (root / f"catalog/papers/{pid}.yaml").write_text(text + extra, encoding="utf-8")


def test_stats_count_kinds_fields_and_terms(catalog_root: Path) -> None:
    _add_paper(
        catalog_root,
        "roe2022other",
        "A Second Paper About Something Else",
        ("year: 2021", "year: 2022"),
        ("code:\n  - https://github.com/example/attack\n", ""),
    )
    cat = load_catalog(catalog_root)
    assert not cat.problems, cat.problems
    text = report(cat)
    assert text.startswith("2 papers, 1 datasets, 1 metrics")
    assert "| attack | 2 | 100% |" in text
    assert "| doi | 1 | 2 | 50% |" in text and "| code | 1 | 2 | 50% |" in text and "| arxiv | 2 | 2 | 100% |" in text
    assert "| generative-prior | 2 |" in text
    assert "| 2021 | 1 |" in text and "| 2022 | 1 |" in text


def test_a_survey_is_not_counted_as_missing_datasets(catalog_root: Path) -> None:
    _add_paper(
        catalog_root,
        "roe2022survey",
        "A Survey of Example Attacks",
        ("kind: attack", "kind: survey"),
        ("datasets: [toyset]\n", ""),
        ("metrics: [toymetric]\n", ""),
    )
    cat = load_catalog(catalog_root)
    assert not cat.problems, cat.problems
    assert not cat.papers["roe2022survey"].datasets
    text = report(cat)
    assert "| datasets | 1 | 1 | 100% |" in text  # the attack has them; the survey is not in the count
    assert "| tldr | 2 | 2 | 100% |" in text
    assert "| tldr checked against abstract | 0 | 2 | 0% |" in text
    fingerprint.write_table(
        catalog_root, {"roe2022survey": {"paper": "roe2022survey", "checked": "2026-11-29", "hashes": "0123abcd"}}
    )
    assert "| tldr checked against abstract | 1 | 2 | 50% |" in report(load_catalog(catalog_root))


def test_stats_restricted_to_one_list(catalog_root: Path) -> None:
    _add_paper(catalog_root, "roe2022listed", "A Listed Paper", extra="listed_in: [overgter]\n")
    cat = load_catalog(catalog_root)
    assert not cat.problems, cat.problems
    assert report(cat).startswith("2 papers,")
    only = report(cat, "overgter")
    assert only.startswith("1 papers listed in overgter,")
    assert "| listed_in | 1 | 1 | 100% |" in only
    assert report(cat, "superx").startswith("0 papers listed in superx,")


def test_stats_restricted_to_papers_any_list_mentions(catalog_root: Path) -> None:
    _add_paper(catalog_root, "roe2022first", "A First Listed Paper", extra="listed_in: [overgter]\n")
    _add_paper(
        catalog_root,
        "roe2022second",
        "A Second Listed Paper",
        ('arxiv: "2202.00002"', 'arxiv: "2202.00003"'),
        extra="listed_in: [superx]\n",
    )
    cat = load_catalog(catalog_root)
    assert not cat.problems, cat.problems
    assert report(cat).startswith("3 papers,")
    union = report(cat, ANY_LIST)
    assert union.startswith("2 papers listed in any tracked list,")
    assert "| listed_in | 2 | 2 | 100% |" in union


def test_stats_names_the_known_lists_for_an_unknown_one(catalog_root: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tools", "--root", str(catalog_root), "stats", "--listed-in", "nosuchlist"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "no such list in catalog/lists.yaml; use one of" in run.stderr
    assert "Traceback" not in run.stderr
