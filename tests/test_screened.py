"""catalog/coverage/screened.tsv: candidates judged out of scope or unverifiable, checked like any record."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from tools import screened
from tools.catalog import load_catalog

HEADER = "arxiv\ttitle\tverdict\treason\tscreened\n"


def write_table(root: Path, *rows: str, header: str = HEADER) -> None:
    path = root / screened.TABLE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")


def problems_in(root: Path) -> list[str]:
    return [str(p) for p in load_catalog(root).problems]


def test_well_formed_rows_are_read(catalog_root: Path) -> None:
    write_table(
        catalog_root,
        "2502.00001\tA Membership Inference Paper\tout-of-scope\tmembership inference only\t2026-11-29",
        "\tA Paper Known Only By Name\tunverified\tno primary page shows the authors\t2026-11-28",
    )
    rows, problems = screened.read(catalog_root)
    assert problems == []
    assert [(r.line, r.arxiv, r.verdict) for r in rows] == [(2, "2502.00001", "out-of-scope"), (3, None, "unverified")]
    assert problems_in(catalog_root) == []


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("arXiv:2502.00001\tT\tout-of-scope\twhy\t2026-11-29", "arxiv", "not a bare arXiv ID"),
        ("2502.00001\t\tout-of-scope\twhy\t2026-11-29", "title", "required"),
        ("2502.00001\tT\texcluded\twhy\t2026-11-29", "verdict", "must be one of out-of-scope, unverified"),
        ("2502.00001\tT\tunverified\t\t2026-11-29", "reason", "required"),
        ("2502.00001\tT\tunverified\t" + "x" * 201 + "\t2026-11-29", "reason", "longer than 200"),
        ("2502.00001\tT\tunverified\twhy\tyesterday", "screened", "YYYY-MM-DD"),
        ("2502.00001\tT\tunverified\twhy", "(row)", "has 4 columns, needs 5"),
    ],
)
def test_a_malformed_row_names_its_line_and_field(catalog_root: Path, row: str, field: str, message: str) -> None:
    write_table(catalog_root, row)
    problems = problems_in(catalog_root)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{screened.TABLE}:2: {field}: ")
    assert message in problems[0]


def test_a_wrong_header_and_a_repeated_row_are_reported(catalog_root: Path) -> None:
    write_table(catalog_root, "2502.00001\tT\tunverified\twhy\t2026-11-29", header="id\ttitle\n")
    expected = "the first line must name the columns arxiv, title, verdict, reason, screened, tab-separated"
    assert problems_in(catalog_root) == [f"{screened.TABLE}:1: (header): {expected}"]
    row = "2502.00001\tT\tunverified\twhy\t2026-11-29"
    write_table(catalog_root, row, row)
    assert problems_in(catalog_root) == [f"{screened.TABLE}:3: arxiv: repeats line 2"]


def test_a_paper_screened_out_of_scope_cannot_also_be_catalogued(catalog_root: Path) -> None:
    # The fixture paper doe2021example has arXiv ID 2101.00001.
    write_table(catalog_root, "2101.00001\tAnother Title\tout-of-scope\tmembership inference only\t2026-11-29")
    [problem] = problems_in(catalog_root)
    assert problem.startswith("catalog/papers/doe2021example.yaml:")
    assert ": arxiv: this paper was screened out of scope on 2026-11-29" in problem
    assert "line 2: membership inference only" in problem
    assert "delete that line and say why in the pull request" in problem


def test_a_catalogued_paper_is_found_by_title_too(catalog_root: Path) -> None:
    write_table(catalog_root, "\tAn example attack on example models.\tunverified\tno authors seen\t2026-11-28")
    [problem] = problems_in(catalog_root)
    assert problem.startswith("catalog/papers/doe2021example.yaml:")
    assert ": title: catalog/coverage/screened.tsv line 2 lists this paper as not yet verified" in problem


def test_the_real_table_is_consistent_with_the_catalogue() -> None:
    rows, problems = screened.read(REPO)
    assert problems == []
    assert rows, "catalog/coverage/screened.tsv should record the candidates screened so far"
    cat = load_catalog(REPO)
    assert not [p for p in cat.problems if "screened" in str(p)]


def test_help_wanted_lists_unverified_candidates_escaped(catalog_root: Path) -> None:
    from tools.site import pages

    write_table(
        catalog_root,
        "2502.00002\t<script>alert(1)</script> Gradient Leak\tunverified\tonly one aggregator names the authors\t2026-11-29",
        "2502.00001\tA Membership Paper\tout-of-scope\tmembership inference only\t2026-11-29",
        "\tMMGIA (multimodal gradient inversion)\tunverified\tno page found\t2026-11-29",
    )
    cat = load_catalog(catalog_root)
    assert cat.problems == []
    leads = pages.render_site(cat, catalog_root)["help-wanted.md"].split('id="leads"')[1]
    assert "We know of 2 more papers" in leads and "the 1 candidates we\njudged out of scope" in leads
    assert '<a href="https://arxiv.org/abs/2502.00002">&lt;script&gt;alert(1)&lt;/script&gt; Gradient Leak</a>' in leads
    assert "<td>MMGIA (multimodal gradient inversion)</td><td>no page found</td>" in leads
    assert "<script>" not in leads and "A Membership Paper" not in leads
