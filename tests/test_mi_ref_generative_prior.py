"""GMI (mi_ref.generative_prior): realistic reconstructions the evaluator recognises."""

from __future__ import annotations

import pytest

from mi_ref import generative_prior
from mi_ref.harness import digits_world


@pytest.fixture(scope="module")
def result():
    return generative_prior.run(generative_prior.Config(seed=0))


def test_gmi_reaches_accuracy_and_real_sample_distance(result) -> None:
    assert result.metrics["attack-acc-top1"] >= 0.9
    real = result.baselines["real public sample of the class"]["knn-dist"]
    assert result.metrics["knn-dist"] <= 1.3 * real
    random_latent = result.baselines["random latent, no search"]
    assert result.metrics["attack-acc-top1"] > random_latent["attack-acc-top1"] + 0.5
    assert result.metrics["knn-dist"] < random_latent["knn-dist"]


def test_without_selection_or_search_the_attack_fails() -> None:
    """pool == per_class makes selection a no-op; with zero steps nothing is left of the attack."""
    weak = generative_prior.run(generative_prior.Config(seed=0, pool=5, steps=0))
    assert weak.metrics["attack-acc-top1"] < 0.9


@pytest.mark.slow
def test_generator_never_sees_private_data() -> None:
    """The generator is a function of the public split alone: retraining on it gives the same weights."""
    world = digits_world(0)
    cached = generative_prior.public_generator(world)
    assert world.x_public.shape[0] > 0
    retrained = generative_prior.train_generator(world.x_public, world.seed)
    for a, b in zip(cached.state_dict().values(), retrained.state_dict().values()):
        assert (a == b).all()


@pytest.mark.parametrize("bad", [{"per_class": 0}, {"pool": 3}, {"steps": -1}, {"lr": 0.0}, {"prior_weight": -1.0}])
def test_impossible_settings_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        generative_prior.Config(**bad)
