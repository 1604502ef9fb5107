"""MI-Face (mi_ref.optimisation) beats blank and noise images on the evaluation model's judgement."""

from __future__ import annotations

import pytest

from mi_ref import optimisation


@pytest.mark.parametrize("target_arch", ["softmax", "mlp"])
def test_mi_face_recovers_classes_the_evaluator_recognises(target_arch: str) -> None:
    result = optimisation.run(optimisation.Config(seed=0, target_arch=target_arch))
    assert result.metrics["attack-acc-top1"] >= 0.9
    for baseline in ("all-zeros image", "uniform noise"):
        assert result.metrics["knn-dist"] < result.baselines[baseline]["knn-dist"]
        assert result.metrics["attack-acc-top1"] > result.baselines[baseline]["attack-acc-top1"]
    assert result.reconstructions.shape == (50, 8, 8)
    assert result.reconstructions.min() >= 0 and result.reconstructions.max() <= 1


def test_one_step_is_not_enough() -> None:
    """The margin comes from the optimisation, not from the setup: a single step does not pass."""
    result = optimisation.run(optimisation.Config(seed=0, steps=1))
    assert result.metrics["attack-acc-top1"] < 0.9


@pytest.mark.parametrize(
    "bad", [{"steps": 0}, {"per_class": 0}, {"step_size": 0.0}, {"l2_weight": -1.0}, {"target_arch": "cnn"}]
)
def test_impossible_settings_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        optimisation.Config(**bad)


def test_cli_rejects_bad_settings_with_exit_code_2(capsys) -> None:
    assert optimisation.main(["--target-arch", "cnn"]) == 2
    assert "target_arch must be one of" in capsys.readouterr().err
