"""mi_ref.label_leakage: cut-layer gradients give a split-learning feature party the other party's labels."""

from __future__ import annotations

import pytest
import torch

from mi_ref import label_leakage as ll


@pytest.fixture(scope="module")
def result():
    return ll.run(ll.Config(seed=0))


def test_both_attacks_read_the_labels_without_protection(result):
    rows = result.extra["per protection"]["no protection"]
    assert rows["norm attack auc"] > 0.95
    assert rows["direction attack auc"] > 0.95
    assert result.baselines["random guess"]["auc"] < 0.6
    assert rows["model test auc"] > 0.95


def test_max_norm_hides_the_norm_but_not_the_direction(result):
    rows = result.extra["per protection"]["max norm"]
    assert rows["norm attack auc"] < 0.75
    assert rows["direction attack auc"] > 0.95


def test_strong_noise_lowers_leakage_at_a_utility_cost(result):
    table = result.extra["per protection"]
    strong, none = table["Gaussian noise 4x"], table["no protection"]
    assert max(strong["norm attack auc"], strong["direction attack auc"]) < 0.8
    assert strong["model test auc"] < none["model test auc"] - 0.03
    weak = table["Gaussian noise 1x"]
    assert max(weak["norm attack auc"], weak["direction attack auc"]) > 0.9  # mild noise protects little


def test_attack_scores_by_hand():
    # A linear top model makes every cut-layer gradient (sigma(z) - y) * w: positives point against w.
    w = torch.tensor([1.0, -2.0, 0.5])
    coeff = torch.tensor([-0.9, 0.1, 0.05, -0.7, 0.2])  # sigma(z) - y: negative for the two positives
    grads = coeff[:, None] * w
    assert torch.allclose(ll.norm_scores(grads), coeff.abs() * w.norm())
    cos = ll.direction_scores(grads, known_positive=0)
    assert torch.allclose(cos, torch.tensor([1.0, -1.0, -1.0, 1.0, -1.0]), atol=1e-6)


def test_protections_by_hand():
    gen = torch.Generator().manual_seed(0)
    grads = torch.zeros(4, 4000)
    grads[:, 0] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert torch.equal(ll.protect(grads, "none", 1.0, gen), grads)
    levelled = ll.protect(grads, "max-norm", 1.0, gen).norm(dim=1)
    assert torch.allclose(levelled, torch.full((4,), 4.0), rtol=0.05)  # every norm near the batch maximum
    noisy = ll.protect(grads, "gaussian", 2.0, gen) - grads
    assert float(noisy.std()) == pytest.approx(2.0 * 2.5, rel=0.05)  # 2x the mean norm (2.5)


@pytest.mark.parametrize(
    "field, value",
    [("seed", -1), ("positive", 10), ("epochs", 0), ("noise", 0.0), ("strong_noise", float("nan")), ("lr", -1.0)],
)
def test_impossible_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        ll.Config(**{field: value})
