"""`python -m tools stats`: figures computed from the catalogue, not typed in."""

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
    assert "| doi | 1 | 50% |" in text and "| code | 1 | 50% |" in text and "| arxiv | 2 | 100% |" in text
    assert "| generative-prior | 2 |" in text
    assert "| 2021 | 1 |" in text and "| 2022 | 1 |" in text
