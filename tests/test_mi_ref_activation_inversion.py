"""mi_ref.activation_inversion: split-inference image inversion and AIA token recovery, against baselines."""

from __future__ import annotations

import pytest
import torch

from mi_ref import activation_inversion as ai


@pytest.fixture(scope="module")
def result():
    return ai.run(ai.Config(seed=0))


def test_whitebox_inversion_reaches_20db_and_beats_the_mean_digit(result):
    mean = result.baselines["public mean digit / majority token"]["psnr"]
    assert result.metrics["psnr"] >= 20
    assert result.metrics["psnr"] > mean + 5


def test_inverse_network_reaches_20db(result):
    assert result.extra["inverse_network_psnr"] >= 20
    assert result.extra["inverse_network_psnr"] > result.baselines["public mean digit / majority token"]["psnr"] + 5


def test_aia_recovers_tokens_from_victim_activations(result):
    assert result.extra["aia_token_accuracy"] >= 0.95
    assert result.metrics["token-f1"] >= 0.95
    assert result.extra["majority_token_accuracy"] < 0.2
    assert result.metrics["token-f1"] > result.baselines["public mean digit / majority token"]["token-f1"] + 0.5


def test_split_model_is_a_working_classifier(result):
    assert result.extra["split_model_accuracy_public"] > 0.8


def test_whitebox_inversion_of_an_identity_client_returns_the_input():
    x = torch.rand(2, 1, 8, 8)
    rec = ai.whitebox_inversion(torch.nn.Identity(), x, steps=200, tv_weight=0.0)
    assert torch.allclose(rec, x, atol=0.02)


@pytest.mark.parametrize(
    "bad", [{"n_targets": 0}, {"whitebox_steps": 0}, {"tv_weight": -1.0}, {"vocab": 1}, {"finetune_steps": 0}]
)
def test_impossible_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        ai.Config(**bad)
