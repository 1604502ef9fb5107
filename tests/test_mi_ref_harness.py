"""The shared mi_ref harness: the digits world, metrics' invariants, the table, the grid and the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from PIL import Image

from mi_ref import harness, metrics
from mi_ref.harness import Result


@pytest.fixture(scope="module")
def world() -> harness.DigitsWorld:
    return harness.digits_world(0)


def test_splits_are_disjoint_and_cover_every_class(world: harness.DigitsWorld) -> None:
    split = harness.digits_split(0)
    keys = [{arr.tobytes() for arr in x} for x, _ in split.values()]
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            # Digits holds a few duplicate images; disjoint by sample means almost no shared bytes.
            assert len(keys[i] & keys[j]) <= 3
    assert sum(len(x) for x, _ in split.values()) == 1797
    for _, y in split.values():
        assert set(y.tolist()) == set(range(10))
    assert world.x_private.min() >= 0 and world.x_private.max() <= 1 and world.x_private.shape[1:] == (8, 8)


def test_world_is_deterministic_and_seeded(world: harness.DigitsWorld) -> None:
    again = harness.digits_split(0)
    np.testing.assert_array_equal(again["private"][0], world.x_private)
    assert not np.array_equal(harness.digits_split(1)["private"][0][:20], world.x_private[:20])


def test_models_learn_and_evaluator_is_not_the_target(world: harness.DigitsWorld) -> None:
    assert harness.accuracy(world.target, world.x_private_test, world.y_private_test) > 0.9
    assert harness.accuracy(world.evaluator, world.x_private_test, world.y_private_test) > 0.9
    assert world.evaluator is not world.target and world.evaluator.arch != world.target.arch


def test_training_is_deterministic_and_cache_round_trips(tmp_path, monkeypatch) -> None:
    x, y = harness.digits_split(3)["public"]
    a = harness.train_classifier("softmax", x, y, seed=5, epochs=3)
    b = harness.train_classifier("softmax", x, y, seed=5, epochs=3)
    assert torch.equal(a.head.weight, b.head.weight)
    monkeypatch.setenv("MI_REF_CACHE", str(tmp_path))
    first = harness.cached_classifier("t", "softmax", x, y, seed=5)
    assert len(list(tmp_path.glob("*.pt"))) == 1
    second = harness.cached_classifier("t", "softmax", x, y, seed=5)
    assert torch.equal(first.head.weight, second.head.weight)


def test_unknown_architecture_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        harness.Classifier("resnet")


def test_image_metrics_invariants() -> None:
    rng = np.random.default_rng(0)
    img = rng.random((4, 8, 8))
    noisy = np.clip(img + rng.normal(0, 0.2, img.shape), 0, 1)
    assert metrics.mse(img, img) == 0
    assert metrics.mse(img, np.zeros_like(img)) == pytest.approx(float(np.mean(img**2)))
    assert metrics.psnr(img, img) == pytest.approx(100.0)
    assert metrics.psnr(img[0], img[0] + 0.1) == pytest.approx(20.0)
    assert metrics.ssim(img, img) == pytest.approx(1.0)
    assert metrics.ssim(img, noisy) < 0.9
    with pytest.raises(ValueError, match="differ"):
        metrics.mse(img, img[:2])


def test_attack_accuracy_and_knn_distance(world: harness.DigitsWorld) -> None:
    classes = world.y_private_test[:50]
    right = metrics.attack_acc_top1(world.evaluator, world.x_private_test[:50], classes)
    wrong = metrics.attack_acc_top1(world.evaluator, world.x_private_test[:50], (classes + 1) % 10)
    assert right > 0.9 and wrong < 0.1
    assert metrics.attack_acc_top5(world.evaluator, world.x_private_test[:50], classes) >= right
    # A private sample is at distance 0 from itself; real digits are nearer than blank images.
    assert metrics.knn_dist(
        world.evaluator, world.x_private[:5], world.y_private[:5], world.x_private, world.y_private
    ) == pytest.approx(0.0, abs=1e-3)
    real = metrics.knn_dist(world.evaluator, world.x_public[:50], world.y_public[:50], world.x_private, world.y_private)
    blank = metrics.knn_dist(
        world.evaluator, np.zeros((50, 8, 8)), world.y_public[:50], world.x_private, world.y_private
    )
    assert real < blank


@dataclass(frozen=True)
class ToyConfig:
    """A toy config for the CLI test."""

    steps: int = 3
    """How many steps."""
    lr: float = 0.5
    """Step size."""
    name: str = "x"
    """A name."""
    noisy: bool = False
    """A switch."""

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")


def toy_run(cfg: ToyConfig) -> Result:
    img = np.full((3, 8, 8), cfg.lr)
    return Result(
        metrics={"psnr": float(cfg.steps)},
        baselines={"zeros": {"psnr": 1.0, "mse": 2.0}},
        targets=img,
        reconstructions=img * 0.5,
        extra={"note": cfg.name, "noisy": cfg.noisy},
    )


def test_cli_prints_table_and_writes_grid_and_json(tmp_path, capsys) -> None:
    code = harness.cli(ToyConfig, toy_run, ["--steps", "7", "--name", "abc", "--noisy", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "psnr" in out and "zeros" in out and "7" in out and "note: abc" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["config"] == {"steps": 7, "lr": 0.5, "name": "abc", "noisy": True}
    assert data["metrics"] == {"psnr": 7.0} and data["baselines"]["zeros"]["mse"] == 2.0
    grid = Image.open(tmp_path / "grid.png")
    assert grid.size == ((3 * 9 + 1) * 8, (2 * 9 + 1) * 8)  # 3 columns, targets row + reconstructions row


def test_cli_rejects_impossible_settings_with_one_line(capsys) -> None:
    assert harness.cli(ToyConfig, toy_run, ["--steps", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: steps must be >= 0, got -1"


def test_cli_help_shows_field_docstrings(capsys) -> None:
    with pytest.raises(SystemExit):
        harness.cli(ToyConfig, toy_run, ["--help"])
    assert "How many steps." in capsys.readouterr().out


def test_format_result_lists_baseline_only_metrics() -> None:
    text = harness.format_result(toy_run(ToyConfig()))
    lines = text.splitlines()
    assert lines[0].split() == ["metric", "attack", "zeros"]
    assert any(line.split()[:3] == ["mse", "-", "2"] for line in lines)


def test_save_grid_without_targets(tmp_path) -> None:
    path = harness.save_grid(None, np.zeros((12, 8, 8)), tmp_path / "g.png", per_row=5)
    assert Image.open(path).size == ((5 * 9 + 1) * 8, (3 * 9 + 1) * 8)
