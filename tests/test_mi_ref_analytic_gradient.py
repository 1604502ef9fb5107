"""mi_ref.analytic_gradient: closed-form input recovery from a linear layer's gradients, and batching."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import analytic_gradient as ag


@pytest.fixture(scope="module")
def result():
    return ag.run(ag.Config(seed=0))


def test_batch_of_one_is_recovered_above_60db(result):
    assert result.metrics["psnr"] > 60
    assert result.metrics["psnr"] > result.baselines["public mean digit"]["psnr"] + 40


def test_batching_mixes_examples_and_the_imprint_layer_separates_them(result):
    study = result.extra["batch_study"]
    assert study["1"]["honest_recovered_frac"] == 1.0
    # A bigger batch leaves fewer rows activated by a single example: recovery falls.
    assert study["64"]["honest_recovered_frac"] < 0.5 * study["1"]["honest_recovered_frac"]
    assert study["64"]["honest_recovered_frac"] < study["4"]["honest_recovered_frac"]
    # Robbing the Fed's brightness bins recover far more of a large batch.
    assert study["64"]["imprint_recovered_frac"] > study["64"]["honest_recovered_frac"] + 0.2


def test_rows_to_inputs_is_exact_for_one_example_and_a_mix_for_two():
    torch.manual_seed(0)
    layer = nn.Linear(5, 3)
    x = torch.rand(2, 5)
    grads = torch.autograd.grad(F.mse_loss(layer(x[:1]), torch.ones(1, 3)), [layer.weight, layer.bias])
    for cand in ag.rows_to_inputs(grads[0].double(), grads[1].double()):
        assert torch.allclose(cand.float(), x[0], atol=1e-5)
    grads = torch.autograd.grad(F.mse_loss(layer(x), torch.ones(2, 3)), [layer.weight, layer.bias])
    cand = ag.rows_to_inputs(grads[0].double(), grads[1].double()).float()
    assert not torch.allclose(cand[0], x[0], atol=1e-3) and not torch.allclose(cand[0], x[1], atol=1e-3)


def test_imprint_layer_thresholds_increase():
    layer = ag.imprint_layer(torch.rand(50, 64), 10)
    assert torch.all(layer.bias[:-1] >= layer.bias[1:])  # bias = -cut, cuts increase


@pytest.mark.parametrize("bad", [{"max_batch": 0}, {"max_batch": 1000}, {"bins": 1}, {"trials": 0}])
def test_impossible_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        ag.Config(**bad)


def test_cli_writes_grid_and_results(tmp_path, capsys):
    import json

    assert ag.main(["--max-batch", "4", "--trials", "1", "--out", str(tmp_path)]) == 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["metrics"]["psnr"] > 60
    assert set(saved["extra"]["batch_study"]) == {"1", "2", "4"}
    assert (tmp_path / "grid.png").stat().st_size > 0
    assert "psnr" in capsys.readouterr().out
