"""BREP-MI (mi_ref.label_only): label-only access, yet the evaluator recognises the reconstructions."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mi_ref import label_only
from mi_ref.generative_prior import public_generator
from mi_ref.harness import digits_world


def test_brep_mi_reaches_accuracy_and_improves_on_its_starting_points() -> None:
    result = label_only.run(label_only.Config(seed=0))
    # Issue 7 asks for >= 0.8; 0.9 is what our seeds 0-2 give with room (0.98-1.0).
    assert result.metrics["attack-acc-top1"] >= 0.9
    start = result.baselines["starting latents (labelled y, no repulsion)"]
    assert result.metrics["knn-dist"] < start["knn-dist"]  # repulsion moves towards typical samples
    assert result.metrics["attack-acc-top1"] > result.baselines["random latent"]["attack-acc-top1"] + 0.5


class ScoreScrambler(nn.Module):
    """Same argmax as `model`, different scores: logits * a(x) + b(x) with a > 0 varying per input."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)
        a = 0.1 + 5 * x.flatten(1).mean(1, keepdim=True)  # (N, 1), positive, depends on the input
        return a * logits + 3 * x.flatten(1).sum(1, keepdim=True)


def test_only_labels_are_used() -> None:
    """Scrambling the scores but not the argmax leaves the attack's output bit-for-bit unchanged."""
    world = digits_world(0)
    generator = public_generator(world)
    cfg = label_only.Config(seed=0, per_class=1, iterations=10)
    classes = torch.arange(10)
    outputs = []
    for model in (world.target, ScoreScrambler(world.target)):
        oracle = label_only.LabelOracle(model)
        outputs.append(label_only.brep_mi(oracle, generator, classes, cfg, torch.Generator().manual_seed(0)))
        assert oracle.queries > 0
    assert torch.equal(outputs[0], outputs[1])
    scrambled = ScoreScrambler(world.target)(torch.tensor(world.x_public[:20]))
    assert not torch.allclose(scrambled, world.target(torch.tensor(world.x_public[:20])))


def test_oracle_returns_integer_labels_only() -> None:
    world = digits_world(0)
    out = label_only.LabelOracle(world.target)(torch.tensor(world.x_public[:7]))
    assert out.shape == (7,) and out.dtype == torch.int64 and not out.requires_grad


@pytest.mark.parametrize(
    "bad",
    [
        {"per_class": 0},
        {"probes": 0},
        {"radius": 0.0},
        {"radius": 5.0},
        {"growth": 1.0},
        {"step": 0.0},
        {"iterations": -1},
        {"init_tries": 10},
    ],
)
def test_impossible_settings_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        label_only.Config(**bad)
