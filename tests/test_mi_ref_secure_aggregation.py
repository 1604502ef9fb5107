"""mi_ref.secure_aggregation: masks cancel in the sum, hide each update, and leave the sum invertible."""

from __future__ import annotations

import pytest
import torch

from mi_ref import secure_aggregation as sa
from mi_ref.bench import default_result


@pytest.fixture(scope="module")
def result():
    return default_result("secure_aggregation")  # the default run, shared with tests/test_mi_ref_bench.py


def test_masks_cancel_in_the_sum_and_hide_each_update():
    gen = torch.Generator().manual_seed(0)
    updates = [[torch.randn(50, 10, generator=gen), torch.randn(40, generator=gen)] for _ in range(4)]
    seeds = {(i, j): 100 * i + j for i in range(4) for j in range(i + 1, 4)}
    masked = sa.pairwise_masked(updates, seeds, scale=10.0)
    for got, want in zip(sa.aggregate(masked), [sum(p) for p in zip(*updates)]):
        assert torch.allclose(got, want, atol=1e-5)
    # One masked update is nearly uncorrelated with the client's true update.
    flat = lambda grads: torch.cat([g.flatten().double() for g in grads])
    cos = torch.nn.functional.cosine_similarity(flat(masked[0]), flat(updates[0]), dim=0)
    assert abs(float(cos)) < 0.2


@pytest.mark.slow
def test_one_masked_update_gives_nothing_away(result):
    mean_digit = result.baselines["public mean digit"]["psnr"]
    for k in (2, 4, 8):
        assert result.baselines[f"one masked update (K={k})"]["psnr"] < mean_digit
    assert all(row["mask_cancel_error"] < 1e-5 for row in result.extra["per_clients"].values())


@pytest.mark.slow
def test_the_sum_of_eight_one_digit_clients_is_still_inverted(result):
    # Our finding, pinned: secure aggregation hides who sent what, not the batch the sum describes.
    assert result.metrics["psnr"] > 40  # K = 1: the sum is the update
    assert result.baselines["sum of K=8"]["psnr"] > 40


@pytest.mark.parametrize("kwargs", [{"clients": "0"}, {"clients": "11"}, {"clients": "x"}, {"mask_scale": 0.0}])
def test_impossible_settings_are_rejected(kwargs, capsys):
    with pytest.raises(ValueError):
        sa.Config(**kwargs)
    flag, value = next(iter(kwargs.items()))
    assert sa.main([f"--{flag.replace('_', '-')}", str(value)]) == 2
    assert "error:" in capsys.readouterr().err
