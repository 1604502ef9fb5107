"""mi_ref.feature_defenses: activation noise and NoPeek against noise-aware activation inversion."""

from __future__ import annotations

import pytest
import torch

from mi_ref import feature_defenses as fd
from mi_ref.bench import default_result


@pytest.fixture(scope="module")
def rows():
    # The default run, shared with tests/test_mi_ref_bench.py.
    return default_result("feature_defenses").extra["per_defense"]


@pytest.mark.slow
def test_undefended_split_model_is_inverted(rows):
    assert rows["none"]["psnr"] > 30


@pytest.mark.slow
def test_noise_at_half_std_costs_4db_for_at_most_3_points(rows):
    assert rows["noise 0.5 x std"]["psnr"] <= rows["none"]["psnr"] - 4
    assert rows["noise 0.5 x std"]["test-acc"] >= rows["none"]["test-acc"] - 0.03


@pytest.mark.slow
def test_nopeek_lowers_distance_correlation_and_psnr(rows):
    strong = rows["NoPeek alpha=3"]
    assert strong["dcor"] < rows["none"]["dcor"] - 0.05
    assert strong["psnr"] <= rows["none"]["psnr"] - 4
    assert strong["test-acc"] > 0.5  # reported and bounded: NoPeek pays in accuracy here


def test_distance_correlation_is_one_for_a_copy_and_small_for_independent_data():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1000, 8, generator=gen)
    assert abs(float(fd.distance_correlation(x, 2 * x + 1)) - 1) < 1e-4
    assert float(fd.distance_correlation(x, torch.randn(1000, 8, generator=gen))) < 0.25


@pytest.mark.parametrize("kwargs", [{"n_targets": 0}, {"noise_scales": "-1"}, {"nopeek_alphas": "q"}, {"epochs": 0}])
def test_impossible_settings_are_rejected(kwargs, capsys):
    with pytest.raises(ValueError):
        fd.Config(**kwargs)
    flag, value = next(iter(kwargs.items()))
    assert fd.main([f"--{flag.replace('_', '-')}", str(value)]) == 2
    assert "error:" in capsys.readouterr().err
