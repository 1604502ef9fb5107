"""Training-based inversion (mi_ref.training_based) recovers more than the label from confidence vectors."""

from __future__ import annotations

import numpy as np
import pytest

from mi_ref import training_based
from mi_ref.harness import digits_world


def test_decoder_beats_the_label_only_oracle() -> None:
    result = training_based.run(training_based.Config(seed=0))
    oracle = result.baselines["label-only oracle (public class mean)"]
    assert result.metrics["psnr"] > oracle["psnr"]
    assert result.metrics["attack-acc-top1"] >= 0.9
    assert result.metrics["mse"] < oracle["mse"]


def test_decoder_needs_only_the_released_vectors() -> None:
    """Attack-time access is black-box: any function returning confidence vectors (numpy) will do."""
    world = digits_world(0)
    box = training_based.BlackBox(world.target)
    released = {}

    def api(images: np.ndarray) -> np.ndarray:  # what a prediction API returns: rows of probabilities
        out = box(images)
        released[len(released)] = out
        return out

    decoder = training_based.train_decoder(api, world.x_public, training_based.Config(epochs=2))
    assert len(released) == 1 and released[0].shape == (len(world.x_public), 10)
    np.testing.assert_allclose(released[0].sum(1), 1, rtol=1e-5)
    recon = training_based.invert(decoder, api(world.x_private[:5]))
    assert recon.shape == (5, 8, 8) and recon.min() >= 0 and recon.max() <= 1


def test_an_untrained_decoder_does_not_pass() -> None:
    result = training_based.run(training_based.Config(seed=0, epochs=1))
    assert result.metrics["psnr"] < result.baselines["label-only oracle (public class mean)"]["psnr"]


@pytest.mark.parametrize("bad", [{"n_targets": 0}, {"n_targets": 720}, {"epochs": 0}, {"hidden": 0}, {"lr": -1.0}])
def test_impossible_settings_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        training_based.Config(**bad)
