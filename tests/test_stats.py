"""`python -m tools stats`: figures computed from the catalogue, not typed in."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import VALID_PAPER
from tools.catalog import load_catalog
from tools.stats import report


def test_stats_count_kinds_fields_and_terms(catalog_root: Path) -> None:
    second = (
        VALID_PAPER.replace("id: doe2021example", "id: roe2022other")
        .replace("An Example Attack on Example Models", "A Second Paper About Something Else")
        .replace("doi: 10.1109/CVPR46437.2021.00001\n", "")
        .replace('arxiv: "2101.00001"', 'arxiv: "2202.00002"')
        .replace("year: 2021", "year: 2022")
        .replace("code:\n  - https://github.com/example/attack\n", "")
    )
    (catalog_root / "catalog/papers/roe2022other.yaml").write_text(second, encoding="utf-8")
    cat = load_catalog(catalog_root)
    assert not cat.problems, cat.problems
    text = report(cat)
    assert text.startswith("2 papers, 1 datasets, 1 metrics")
    assert "| attack | 2 | 100% |" in text
    assert "| doi | 1 | 2 | 50% |" in text and "| code | 1 | 2 | 50% |" in text and "| arxiv | 2 | 2 | 100% |" in text
    assert "| generative-prior | 2 |" in text
    assert "| 2021 | 1 |" in text and "| 2022 | 1 |" in text


def test_a_survey_is_not_counted_as_missing_datasets(catalog_root: Path) -> None:
    survey = (
        VALID_PAPER.replace("id: doe2021example", "id: roe2022survey")
        .replace("An Example Attack on Example Models", "A Survey of Example Attacks")
        .replace("doi: 10.1109/CVPR46437.2021.00001\n", "")
        .replace('arxiv: "2101.00001"', 'arxiv: "2202.00002"')
        .replace("kind: attack", "kind: survey")
    )
    survey = "\n".join(line for line in survey.splitlines() if not line.startswith(("datasets:", "metrics:")))
    (catalog_root / "catalog/papers/roe2022survey.yaml").write_text(survey + "\n", encoding="utf-8")
    cat = load_catalog(catalog_root)
    assert not cat.problems, cat.problems
    assert not cat.papers["roe2022survey"].datasets
    text = report(cat)
    assert "| datasets | 1 | 1 | 100% |" in text  # the attack has them; the survey is not in the count
    assert "| tldr | 2 | 2 | 100% |" in text


def test_stats_restricted_to_one_list(catalog_root: Path) -> None:
    listed = VALID_PAPER.replace("id: doe2021example", "id: roe2022listed").replace(
        "An Example Attack on Example Models", "A Listed Paper"
    )
    listed = listed.replace("doi: 10.1109/CVPR46437.2021.00001\n", "").replace(
        'arxiv: "2101.00001"', 'arxiv: "2202.00002"'
    )
    (catalog_root / "catalog/papers/roe2022listed.yaml").write_text(
        listed + "listed_in: [overgter]\n", encoding="utf-8"
    )
    cat = load_catalog(catalog_root)
    assert not cat.problems, cat.problems
    assert report(cat).startswith("2 papers,")
    only = report(cat, "overgter")
    assert only.startswith("1 papers listed in overgter,")
    assert "| listed_in | 1 | 1 | 100% |" in only
    assert report(cat, "superx").startswith("0 papers listed in superx,")


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
