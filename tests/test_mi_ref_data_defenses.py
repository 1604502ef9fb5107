"""mi_ref.data_defenses: transformed training data lowers PSNR more than it hides the digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mi_ref import data_defenses as dd


@pytest.fixture(scope="module")
def result():
    return dd.run(dd.Config(seed=0))


@pytest.mark.slow
def test_the_accuracy_preserving_policy_lowers_psnr_but_the_digits_stay_recognisable(result):
    none = result.baselines["no defense"]
    table = result.extra["per policy"]
    chosen = result.extra["chosen policy"]
    assert chosen != "none"
    assert table[chosen]["clean test accuracy"] >= table["none"]["clean test accuracy"] - 0.03
    assert none["psnr"] > 30 and none["attack-acc-top1"] == 1.0  # undefended: near exact
    assert result.metrics["psnr"] < none["psnr"] - 10  # pixel metrics say "defended"...
    assert result.metrics["attack-acc-top1"] >= 0.75  # ...yet the class is still read off the reconstruction


@pytest.mark.slow
def test_an_inverted_contrast_is_undone_by_an_attacker_who_knows_the_policy(result):
    invert = result.extra["per policy"]["invert"]
    assert invert["naive attacker"]["attack-acc-top1"] <= 0.25
    assert invert["defense-aware attacker"]["psnr"] > 30
    assert invert["defense-aware attacker"]["attack-acc-top1"] == 1.0
    assert invert["clean test accuracy"] < 0.3  # and the model never learned normal digits


@pytest.mark.slow
def test_policies_that_hide_digits_cost_accuracy(result):
    table = result.extra["per policy"]
    hiding = [p for p in table if p != "none" and table[p]["defense-aware attacker"]["attack-acc-top1"] <= 0.5]
    assert hiding, "some policy should hide most digits"
    for policy in hiding:
        assert table[policy]["clean test accuracy"] < table["none"]["clean test accuracy"] - 0.03, policy


def test_transforms_by_hand():
    cfg = dd.Config()
    img = torch.zeros(1, 8, 8)
    img[0, 3, 4] = 1.0
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(dd.transform(img, "none", cfg, gen), img)
    assert torch.equal(dd.transform(img, "invert", cfg, gen), 1 - img)
    moved = dd.transform(img.repeat(50, 1, 1), "shift", cfg, gen)
    assert torch.allclose(moved.sum((1, 2)), torch.ones(50))  # a one-pixel shift keeps an inner pixel
    assert not all(torch.equal(m, img[0]) for m in moved)  # and moves at least some
    assert torch.equal(dd._shift(img[0], 1, -2)[4, 2], torch.tensor(1.0))
    cut = dd.transform(torch.ones(20, 8, 8), "cutout", cfg, gen)
    assert torch.equal(cut.sum((1, 2)), torch.full((20,), 64.0 - 9))
    turned = dd.transform(torch.ones(1, 8, 8), "rotate", dd.Config(max_angle=0.0), gen)
    assert torch.allclose(turned, torch.ones(1, 8, 8), atol=1e-5)  # a zero angle changes nothing


def test_recentring_undoes_a_shift():
    img = torch.zeros(1, 8, 8)
    img[0, 2:6, 3:5] = 1.0
    centre = dd.centre_of_mass(img)
    shifted = dd._shift(img[0], 1, 1)[None]
    assert torch.equal(dd.undo(shifted, "shift", centre), img)
    assert torch.equal(dd.undo(1 - img, "invert", centre), img)
    assert torch.equal(dd.undo(shifted, "rotate", centre), shifted)  # nothing to undo for a rotation


@pytest.mark.parametrize(
    "field, value",
    [("seed", -1), ("n_targets", 0), ("max_shift", 0), ("max_shift", 5), ("cutout", 0), ("copies", 0), ("ig_steps", 0), ("max_angle", 200.0),
     ("max_accuracy_drop", 1.5)],
)  # fmt: skip
def test_impossible_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        dd.Config(**{field: value})


@pytest.mark.slow
def test_result_images_are_valid(result):
    assert result.reconstructions.shape == result.targets.shape == (8, 8, 8)
    assert np.isfinite(result.reconstructions).all()
