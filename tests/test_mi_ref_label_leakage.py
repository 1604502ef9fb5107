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


def _leak(row):
    return max(row[f"{name} attack auc"] for name in ll.ATTACKS)


def test_marvell_leaks_less_than_isotropic_noise_of_the_same_power(result):
    table = result.extra["per protection"]
    marvell, isotropic = table["Marvell, power 4"], table["isotropic noise, power 4"]
    assert _leak(marvell) < _leak(isotropic) - 0.03
    assert _leak(marvell) < 0.8
    # and it keeps the model far better than Gaussian noise that hides the labels about as well
    assert marvell["model test auc"] > table["Gaussian noise 4x"]["model test auc"] + 0.05


def _two_class_batch(gen, n=4000, d=16):
    labels = (torch.rand(n, generator=gen) < 0.2).float()
    grads = 0.3 * torch.randn(n, d, generator=gen)
    grads[labels > 0.5] = 2.0 * grads[labels > 0.5] + torch.linspace(-1, 1, d)  # wider and shifted
    return grads, labels


def test_symmetric_kl_matches_torch_distributions():
    d, dist2 = 3, 2.0
    u = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)

    def gaussian(mean_shift, s, a, b):
        cov = (s + a) * torch.outer(u, u) + (s + b) * (torch.eye(d, dtype=torch.float64) - torch.outer(u, u))
        return torch.distributions.MultivariateNormal(mean_shift * u, covariance_matrix=cov)

    pos, neg = gaussian(dist2**0.5, 0.5, 0.7, 0.1), gaussian(0.0, 0.2, 0.3, 0.4)
    expected = torch.distributions.kl_divergence(pos, neg) + torch.distributions.kl_divergence(neg, pos)
    assert ll.symmetric_kl(dist2, d, 0.5, 0.2, 0.7, 0.1, 0.3, 0.4) == pytest.approx(float(expected), rel=1e-9)


def test_marvell_plan_spends_the_budget_better_than_spreading_it():
    grads, labels = _two_class_batch(torch.Generator().manual_seed(0))
    d, p = grads.shape[1], float(labels.mean())
    plan = ll.marvell_plan(grads, labels, power=2.0)
    spent = p * (plan.along_pos + (d - 1) * plan.across_pos) + (1 - p) * (plan.along_neg + (d - 1) * plan.across_neg)
    assert float(spent) == pytest.approx(plan.budget, rel=1e-6)
    # the positives are the wider class, so any across-u noise goes to the negatives
    assert float(plan.across_pos) == 0.0
    pos, neg = grads[labels > 0.5].double(), grads[labels <= 0.5].double()
    s_pos = float((pos - pos.mean(0)).pow(2).sum(1).mean()) / d
    s_neg = float((neg - neg.mean(0)).pow(2).sum(1).mean()) / d
    dist2 = float((pos.mean(0) - neg.mean(0)).pow(2).sum())
    even = plan.budget / d  # the same budget as isotropic noise on every coordinate of both classes
    spread = ll.symmetric_kl(dist2, d, s_pos, s_neg, even, even, even, even)
    silent = ll.symmetric_kl(dist2, d, s_pos, s_neg, 0.0, 0.0, 0.0, 0.0)
    assert plan.kl < 0.5 * spread < silent


def test_marvell_noise_has_the_planned_shape():
    gen = torch.Generator().manual_seed(1)
    grads, labels = _two_class_batch(gen)
    plan = ll.marvell_plan(grads, labels, power=2.0)
    noise = (ll.protect(grads, "marvell", 2.0, gen, labels=labels) - grads).double()
    along = noise @ plan.direction
    positive = labels > 0.5
    assert float(along[positive].pow(2).mean()) == pytest.approx(float(plan.along_pos), rel=0.15)
    assert float(along[~positive].pow(2).mean()) == pytest.approx(float(plan.along_neg), rel=0.15)
    assert float(noise.pow(2).sum(1).mean()) == pytest.approx(plan.budget, rel=0.15)
    isotropic = ll.protect(grads, "isotropic", 2.0, gen, labels=labels) - grads
    assert float(isotropic.pow(2).sum(1).mean()) == pytest.approx(plan.budget, rel=0.1)


def test_marvell_needs_labels():
    with pytest.raises(ValueError, match="labels"):
        ll.protect(torch.ones(4, 3), "marvell", 1.0, torch.Generator())


@pytest.mark.parametrize(
    "field, value",
    [
        ("seed", -1),
        ("positive", 10),
        ("epochs", 0),
        ("noise", 0.0),
        ("strong_noise", float("nan")),
        ("lr", -1.0),
        ("marvell_power", 0.0),
    ],
)
def test_impossible_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        ll.Config(**{field: value})
