"""The "Reference results" page (tools/site/results.py): colour classes follow the reduction of the
attack's success (in the metric's direction), one utility-vs-leakage plot per defense family with one
point per cell, and links to modules and catalogue papers that resolve."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import REPO
from tools.catalog import load_catalog
from tools.site import pages, results

SVG = "{http://www.w3.org/2000/svg}"


def cell(**kw) -> dict:
    base = {
        "attack": "DLG",
        "attack_module": "mi_ref.toy",
        "attack_papers": ["doe2021example"],
        "attacker": "defense-aware",
        "defense": "Noise <b>",
        "setting": "s",
        "defense_module": "mi_ref.toy",
        "defense_papers": ["nobody2099missing"],
        "metric": "toymetric",
        "value": 1.0,
        "undefended": 1.0,
        "utility_metric": "test-acc",
        "utility": 0.9,
        "utility_undefended": 0.96,
        "secondary": {},
    }
    return base | kw


LOWER_METRIC = """\
id: lowmetric
name: LowMetric
measures: "A distance: smaller means a closer reconstruction."
definition: "$d = 0$"
direction: lower
range: "[0, inf)"
"""

# (cell, expected reduction class, expected utility class): known numbers on both sides of each cut-off.
CASES = [
    (cell(setting="a", value=10.0, undefended=100.0, utility=0.95), "strong", "kept"),
    (cell(setting="b", value=80.0, undefended=100.0, utility=0.90), "partial", "some"),
    (cell(setting="c", value=95.0, undefended=100.0, utility=0.50), "none", "lost"),
    (cell(setting="d", value=120.0, undefended=100.0), "none", "some"),  # the defense made it worse
    # Same numbers, opposite directions: a lower-is-leakier metric rising from 2 to 10 is a strong cut.
    (cell(setting="e", metric="lowmetric", value=10.0, undefended=2.0, utility_undefended=None), "strong", "unknown"),
    (cell(setting="f", value=10.0, undefended=2.0), "none", "some"),
    (cell(setting="g", value=0.0, undefended=0.0), "unknown", "some"),
    # A family without utility (the model is unchanged): a table, no plot.
    (
        cell(
            setting="h",
            defense="Masks",
            defense_module="mi_ref.masks",
            value=1.0,
            undefended=4.0,
            utility=None,
            utility_metric=None,
            utility_undefended=None,
        ),
        "strong",
        "unknown",
    ),
]


@pytest.fixture
def toy_site(catalog_root):
    (catalog_root / "catalog" / "metrics" / "lowmetric.yaml").write_text(LOWER_METRIC, encoding="utf-8")
    mod = catalog_root / "mi_ref"
    (mod / "results").mkdir(parents=True)
    (mod / "toy.py").write_text('"""Toy: defenses."""\nPAPERS = ("doe2021example",)\n', encoding="utf-8")
    (mod / "results" / "matrix.json").write_text(
        json.dumps({"format_version": 1, "cells": [c for c, _, _ in CASES]}), encoding="utf-8"
    )
    (mod / "results" / "toy.png").write_bytes(b"\x89PNG fake")
    cat = load_catalog(catalog_root)
    assert not cat.problems, cat.problems
    return cat, pages.render_site(cat, catalog_root)


def _rows(page: str) -> list[str]:
    return re.findall(r"<tr><td>.*?</tr>", page)


def test_colour_classes_follow_the_reduction_and_the_metric_direction(toy_site):
    _, files = toy_site
    rows = _rows(files["reference/results.md"])
    assert len(rows) == len(CASES)
    for row, (c, reduction, utility) in zip(rows, CASES, strict=True):
        assert f"<td>{c['setting']}</td>" in row
        assert re.findall(r'class="mi-red mi-red-(\w+)"', row) == [reduction, reduction], (c["setting"], row)
        assert re.findall(r'class="mi-util mi-util-(\w+)"', row) == [utility], (c["setting"], row)
        # Colour is never the only signal: the words of the class are in the cell.
        assert results.REDUCTION_CLASSES[reduction][1] in row
        if utility != "unknown":
            assert results.UTILITY_CLASSES[utility][1] in row


def test_one_plot_per_family_with_one_point_per_cell(toy_site):
    _, files = toy_site
    svg = ET.fromstring(files["reference/results-toy.svg"])
    points = [c for c in svg.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]
    plotted = [c for c, _, _ in CASES if c["defense_module"] == "mi_ref.toy" and c["undefended"] > 0]
    assert len(points) == len(plotted) == 6  # "g" (undefended 0) has no share to plot
    tips = [p.find(f"{SVG}title").text for p in points]
    assert all(t.startswith("Noise <b>, ") for t in tips)  # data is text in the SVG, not markup
    assert "Noise &lt;b&gt;" in files["reference/results-toy.svg"]
    titles = [r.find(f"{SVG}title") for r in svg.iter(f"{SVG}rect")]
    marks = [t for t in titles if t is not None and t.text.startswith("no defense")]
    assert len(marks) == 1  # one undefended system (same attack, same utility); "e" has no undefended utility
    # The point of setting "a" (10% of undefended leakage kept) sits lower than that of "b" (80%).
    a, b = (float(p.get("cy")) for p in points[:2])
    assert a > b
    assert "reference/results-masks.svg" not in files  # no utility: no plot
    page = files["reference/results.md"]
    assert 'src="results-toy.svg"' in page and "No plot: these defenses do not change the model" in page
    assert 'src="toy.png"' in page  # the family's reconstruction grid next to it


def test_rows_link_modules_and_known_papers_only(toy_site):
    _, files = toy_site
    page = files["reference/results.md"]
    assert 'href="toy.html"' in page
    assert 'href="../papers/doe2021example.html"' in page
    assert "nobody2099missing" not in page


def test_real_results_page_plots_and_links(real_site):
    cat, files = real_site
    page = files["reference/results.md"]
    fams = results.families(json.loads((REPO / "mi_ref/results/matrix.json").read_text(encoding="utf-8"))["cells"], cat)
    assert len(fams) >= 2
    for fam in fams:
        name = f"reference/results-{fam.module}.svg"
        if not results.plotted(fam):
            assert name not in files
            continue
        svg = ET.fromstring(files[name])
        points = [c for c in svg.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]
        assert len(points) == len(results.plotted(fam)), fam.module
        assert f'src="results-{fam.module}.svg"' in page
    links = re.findall(r'href="\.\./papers/([^"]+)\.html"', page)
    assert links, "the results page links no paper"
    for pid in links:
        assert pid in cat.papers and f"papers/{pid}.md" in files, pid
    for target in re.findall(r'href="([a-z_]+)\.html"', page):
        assert f"reference/{target}.md" in files, target


@pytest.fixture(scope="module")
def real_site():
    cat = load_catalog(REPO)
    assert not cat.problems, cat.problems[:3]
    return cat, pages.render_site(cat, REPO)


@pytest.mark.parametrize(
    ("value", "undefended", "direction", "expected"),
    [(50, 100, "higher", 0.5), (100, 50, "lower", 0.5), (1, 0, "higher", None), (0, 1, "lower", None)],
)
def test_leakage_kept(value, undefended, direction, expected):
    assert results.leakage_kept(value, undefended, direction) == expected


def test_class_cut_offs():
    assert results.reduction_class(1 - results.STRONG) == "strong"
    assert results.reduction_class(1 - results.STRONG + 0.01) == "partial"
    assert results.reduction_class(1 - results.PARTIAL + 0.01) == "none"
    assert results.reduction_class(None) == "unknown"
    assert results.utility_class(0.95, 0.96) == "kept" and results.utility_class(0.9, 0.96) == "some"
    assert results.utility_class(0.5, 0.9) == "lost"
    assert results.utility_class(None, 0.9) == "unknown"


def test_hostile_labels_stay_text(catalog_root):
    mod = catalog_root / "mi_ref"
    (mod / "results").mkdir(parents=True)
    bad = cell(defense='x\n--8<-- "mkdocs.yml"\n<script>alert(1)</script>{{ 7*7 }}', value=1.0, undefended=2.0)
    (mod / "results" / "matrix.json").write_text(json.dumps({"format_version": 1, "cells": [bad]}), encoding="utf-8")
    files = pages.render_site(load_catalog(catalog_root), catalog_root)
    page, svg = files["reference/results.md"], files["reference/results-toy.svg"]
    for text in (page, svg):
        assert "<script>" not in text and "&lt;script&gt;" in text
        assert not any(line.lstrip().startswith("--8<--") for line in text.splitlines())
    assert "{{" not in page
    ET.fromstring(svg)  # still well-formed
