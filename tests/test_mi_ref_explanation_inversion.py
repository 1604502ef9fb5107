"""mi_ref.explanation_inversion: explanations returned with predictions make inversion much easier."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mi_ref import explanation_inversion as xi
from mi_ref.harness import Classifier


@pytest.fixture(scope="module")
def result():
    return xi.run(xi.Config(seed=0))


@pytest.mark.slow
def test_gradient_x_input_explanations_beat_predictions_alone(result):
    preds = result.baselines["predictions only (no explanation)"]
    oracle = result.baselines["label-only oracle (public class mean)"]
    assert result.metrics["psnr"] > preds["psnr"] + 3  # dB: the explanation adds a lot...
    assert result.metrics["ssim"] > preds["ssim"] + 0.05
    assert preds["psnr"] > oracle["psnr"]  # ...on top of what the predictions already leak
    assert result.metrics["attack-acc-top1"] >= 0.9  # and the reconstructions keep their class


@pytest.mark.slow
def test_plain_gradients_leak_too_but_less(result):
    preds = result.baselines["predictions only (no explanation)"]
    gradient = result.baselines["with the gradient explanation instead"]
    assert gradient["psnr"] > preds["psnr"] + 0.5
    assert gradient["psnr"] < result.metrics["psnr"] - 2


@pytest.mark.slow
def test_noised_explanations_leak_less_and_lose_fidelity(result):
    defended = result.baselines["defense: explanation noised (1x its spread)"]
    preds = result.baselines["predictions only (no explanation)"]
    assert defended["psnr"] < result.metrics["psnr"] - 2.5  # most of the explanation's extra leakage is gone
    assert defended["psnr"] > preds["psnr"] - 1  # an attacker averaging noisy answers keeps some of it
    assert result.extra["noised explanation's cosine similarity to the true one"] < 0.8


@pytest.mark.slow
def test_collecting_several_noised_answers_helps_the_attacker(result):
    # One noisy answer per image lets the decoder memorise the noise; fresh answers let it average.
    key = "defense: explanation noised (1x its spread)"
    one_answer = xi.run(xi.Config(seed=0, noise_queries=1)).baselines[key]["psnr"]
    assert result.baselines[key]["psnr"] > one_answer + 1  # dB (the fixture collects 4 answers per image)


def test_explanations_by_hand():
    torch.manual_seed(0)
    model = Classifier("mlp").eval()
    images = np.random.default_rng(0).random((4, 8, 8)).astype(np.float32)
    conf, grad = xi.explain(model, images, "gradient")
    _, gxi = xi.explain(model, images, "gradient-x-input")
    assert conf.shape == (4, 10) and np.allclose(conf.sum(1), 1, atol=1e-5)
    assert grad.shape == gxi.shape == (4, 64)
    assert torch.allclose(gxi, grad * torch.tensor(images).flatten(1))
    # The gradient of the top logit, checked by finite differences on one pixel.
    x = torch.tensor(images[:1])
    c = int(model(x).argmax())
    bumped = x.clone()
    bumped[0, 3, 5] += 1e-3
    fd = (model(bumped)[0, c] - model(x)[0, c]).item() / 1e-3
    assert fd == pytest.approx(float(grad[0, 3 * 8 + 5]), abs=1e-3)


def test_a_linear_model_s_gradient_says_nothing_beyond_the_class():
    # Why plain gradients leak little from simple models: for logistic regression the saliency map is
    # the predicted class's weight row, identical for every image of that class.
    torch.manual_seed(0)
    model = Classifier("softmax").eval()
    images = np.random.default_rng(1).random((200, 8, 8)).astype(np.float32)
    conf, grad = xi.explain(model, images, "gradient")
    top = conf.argmax(1)
    c = np.bincount(top).argmax()
    same = grad[torch.tensor(top == c)]
    assert len(same) >= 2 and torch.allclose(same, same[0].expand_as(same))
    assert torch.allclose(same[0], model.head.weight[c].detach())


def test_shifted_queries():
    images = np.arange(2 * 64, dtype=np.float32).reshape(2, 8, 8)
    out = xi.shifted(images)
    assert out.shape == (10, 8, 8)
    assert np.array_equal(out[:2], images)
    assert np.array_equal(out[2][1:], images[0][:-1])  # shifted down by one row


@pytest.mark.parametrize(
    "field, value",
    [("seed", -1), ("explanation", "lime"), ("n_targets", 0), ("n_targets", 720), ("epochs", 0), ("hidden", 0),
     ("lr", 0.0), ("explanation_noise", -1.0), ("explanation_noise", float("inf")), ("noise_queries", 0)],
)  # fmt: skip
def test_impossible_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        xi.Config(**{field: value})
