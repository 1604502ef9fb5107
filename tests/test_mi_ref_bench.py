"""mi_ref.bench: the committed attack x defense matrix is well formed and still what the code produces."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
from pathlib import Path

import pytest

from mi_ref import bench

REPO = Path(__file__).resolve().parent.parent
STALE = f"mi_ref/results/matrix.json is stale; regenerate it with `{bench.REGENERATE}` and commit it"


@pytest.fixture(scope="module")
def committed() -> dict:
    assert bench.RESULTS.exists(), f"mi_ref/results/matrix.json is missing; run `{bench.REGENERATE}`"
    return json.loads(bench.RESULTS.read_text(encoding="utf-8"))


def test_matrix_covers_every_defense_module_with_todays_defaults(committed):
    assert set(committed["configs"]) == {f"mi_ref.{m}" for m in bench.MODULES}, STALE
    for name, config in committed["configs"].items():
        current = dataclasses.asdict(importlib.import_module(name).Config())
        assert config == current, f"{name}: defaults changed since the matrix was written; {STALE}"
    assert committed["format_version"] == bench.FORMAT_VERSION, STALE


def test_cells_link_to_existing_code_papers_and_metrics(committed):
    papers = {p.stem for p in (REPO / "catalog" / "papers").glob("*.yaml")}
    metrics = {p.stem for p in (REPO / "catalog" / "metrics").glob("*.yaml")}
    assert len(committed["cells"]) >= 40
    for c in committed["cells"]:
        where = f"cell {bench.cell_key(c)}"
        assert c["metric"] in metrics, f"{where}: metric {c['metric']!r} has no catalogue page"
        defense = importlib.import_module(c["defense_module"])
        assert set(c["defense_papers"]) <= set(defense.PAPERS), f"{where}: papers not in the module's PAPERS"
        attack = importlib.import_module(c["attack_module"])
        assert c["attack_papers"] == list(attack.PAPERS)
        for paper in c["defense_papers"] + c["attack_papers"]:
            assert paper in papers, f"{where}: catalog/papers/{paper}.yaml is missing"
        assert isinstance(c["value"], float) and isinstance(c["undefended"], float)
    keys = [bench.cell_key(c) for c in committed["cells"]]
    assert len(keys) == len(set(keys)), "two cells share a key"


def test_every_defense_paper_of_every_module_appears_in_a_cell(committed):
    shown = {p for c in committed["cells"] for p in c["defense_papers"]}
    for module in bench.MODULES:
        missing = set(importlib.import_module(f"mi_ref.{module}").PAPERS) - shown
        assert not missing, f"mi_ref.{module}: papers {sorted(missing)} have no cell in the matrix"


@pytest.mark.slow
def test_quick_rerun_matches_the_committed_matrix(committed, tmp_path):
    assert bench.main(["--quick", "--out", str(tmp_path)]) == 0  # CLI: table, JSON and grids in tmp_path
    fresh = json.loads((tmp_path / "matrix.json").read_text(encoding="utf-8"))
    assert {c["defense_module"] for c in fresh["cells"]} == {f"mi_ref.{m}" for m in bench.QUICK}
    problems = bench.compare(fresh, committed)
    assert not problems, STALE + ":\n" + "\n".join(problems)
    assert (tmp_path / "gradient_defenses.png").stat().st_size > 0


def test_compare_reports_drift_beyond_tolerance_only(committed):
    fresh = {"cells": copy.deepcopy(committed["cells"][:3])}
    assert bench.compare(fresh, committed) == []
    fresh["cells"][0]["value"] += 2 * bench.TOLERANCE["psnr"] + 1
    fresh["cells"][1]["setting"] = "a setting nobody ran"
    problems = bench.compare(fresh, committed)
    assert len(problems) == 2 and "not in the committed matrix" in problems[1]


def test_committed_pictures_stay_small():
    total = sum(p.stat().st_size for p in bench.RESULTS.parent.glob("*.png"))
    assert 0 < total < 200_000, f"mi_ref/results/*.png total {total} bytes; keep it under 200 KB"
