"""mi_ref.split_hijacking: FSHA decodes a split-learning client's data; a fake-label probe notices it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mi_ref import metrics
from mi_ref import split_hijacking as sh
from mi_ref.harness import digits_split, one_thread


@pytest.fixture(scope="module")
def result():
    return sh.run(sh.Config(seed=0))


@pytest.mark.slow
def test_hijacking_decodes_the_private_digits(result):
    oracle = result.baselines["label-only oracle (public class mean)"]
    mean = result.baselines["public mean digit"]
    assert result.metrics["psnr"] > oracle["psnr"] + 2  # beats being handed each digit's class
    assert result.metrics["psnr"] > mean["psnr"] + 5
    assert result.metrics["attack-acc-top1"] > 0.7  # the evaluation model recognises most of them


@pytest.mark.slow
def test_the_probe_flags_every_hijacker_before_the_attack_pays_off(result):
    honest = result.extra["detection score per session (honest)"]
    hijacking = result.extra["detection score per session (hijacking)"]
    assert min(honest) > 1.0 > max(hijacking)
    assert result.extra["detection auc (hijacking scores lower)"] == 1.0
    early = result.baselines["FSHA after 2 epochs (when the detector decides)"]
    assert early["psnr"] < result.baselines["public mean digit"]["psnr"] + 1


def _batch(n=32, seed=0):
    x, y = digits_split(seed)["private"]
    return torch.tensor(x[:n])[:, None], torch.tensor(y[:n])


def test_the_hijacker_ignores_labels_and_the_honest_server_does_not():
    x, y = _batch()
    other = (y + 1) % 10
    public = torch.tensor(digits_split(0)["public"][0])[:, None]
    answers = {}
    for kind in sh.SERVERS:
        for name, labels in (("true", y), ("other", other)):
            torch.manual_seed(0)  # the same server weights for both label sets
            client = sh.encoder()
            server = sh.HonestServer(1e-3) if kind == "honest" else sh.HijackingServer(public, 1e-3, 10.0)
            answers[kind, name] = server.answer(client(x), labels, torch.Generator().manual_seed(0))
    assert torch.equal(answers["hijacking", "true"], answers["hijacking", "other"])
    assert not torch.allclose(answers["honest", "true"], answers["honest", "other"])


@pytest.mark.slow
def test_the_pilot_decoder_alone_cannot_read_an_honestly_trained_client():
    # Falsifiability: the leak comes from the hijacked training, not from the server's decoder.
    x, y = _batch(n=700)
    public = torch.tensor(digits_split(0)["public"][0])[:, None]
    torch.manual_seed(0)
    client = sh.encoder()
    hijacker, gen = sh.HijackingServer(public, 1e-3, 10.0), torch.Generator().manual_seed(1)
    with one_thread():
        sh.train_client(client, sh.HonestServer(1e-3), x, y, epochs=20, lr=1e-3, gen=torch.Generator().manual_seed(0))
        for _ in range(400):  # the server trains its autoencoder (and critic); the client ignores it
            idx = torch.randint(len(x), (64,), generator=gen)
            with torch.no_grad():
                z = client(x[idx])
            hijacker.answer(z, y[idx], gen)
    targets = x[:64, 0].numpy()
    decoded = hijacker.decode(client(x[:64]))[:, 0].numpy()
    mean = np.broadcast_to(public.mean(0)[0].numpy(), targets.shape)
    assert metrics.psnr(targets, decoded) < metrics.psnr(targets, mean) + 1


def test_label_sensitivity_by_hand():
    assert sh.label_sensitivity([0.6, 1.0], [0.4, 0.4]) == pytest.approx(2.0)
    assert sh.label_sensitivity([0.2], [0.4]) == pytest.approx(0.5)
    assert np.isnan(sh.label_sensitivity([], [0.4]))


@pytest.mark.parametrize(
    "field, value",
    [
        ("seed", -1),
        ("epochs", 0),
        ("detect_epochs", 0),
        ("detect_sessions", 0),
        ("n_targets", 0),
        ("lr", 0.0),
        ("threshold", float("nan")),
        ("gp_weight", -1.0),
        ("fake_rate", 1.0),
    ],
)
def test_impossible_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        sh.Config(**{field: value})
