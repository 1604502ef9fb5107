"""mi_ref.training_data_extraction: planted secrets gain exposure with repetition and come back by search."""

from __future__ import annotations

import math

import pytest
import torch

from mi_ref import training_data_extraction as tde
from mi_ref.metrics import exposure


@pytest.fixture(scope="module")
def result():
    return tde.run(tde.Config(seed=0))


@pytest.mark.slow
def test_most_repeated_secrets_are_fully_exposed_and_extracted(result):
    full = math.log2(10**4)
    assert result.metrics["exposure"] > full - 1  # ranked first or nearly so among 10,000 candidates
    assert result.metrics["exact-match"] >= 0.75
    control = result.baselines["never-planted control"]
    assert control["exact-match"] == 0.0
    assert result.metrics["exposure"] > control["exposure"] + 8


@pytest.mark.slow
def test_exposure_grows_with_repetition(result):
    groups = result.extra["per_group"]
    once, four, sixteen = (groups[f"planted {r}x"]["exposure"] for r in (1, 4, 16))
    assert once < 5  # a secret seen once in 8 epochs is barely memorised...
    assert four > once + 2  # ...four copies clearly are...
    assert sixteen > four + 2  # ...and sixteen copies most of all
    # Extraction needs the secret to rank first: only heavily repeated secrets come back.
    assert groups["planted 1x"]["exact-match"] == 0.0


@pytest.mark.slow
def test_dp_sgd_stops_extraction_at_a_utility_cost(result):
    dp = result.extra["dp_per_group"]["planted 16x"]
    assert dp["exact-match"] == 0.0
    assert dp["exposure"] < result.metrics["exposure"] - 5
    # The price: the DP model predicts held-out sentences of the language worse.
    assert result.extra["DP-SGD held-out loss (nats per token)"] > result.extra["held-out loss (nats per token)"] + 0.1


def test_never_planted_secrets_sit_near_chance():
    # Secrets whose canary never entered the training text: their exposure must stay near the
    # uniform-rank expectation (about 1.44 bits), far from the 13.3-bit maximum, and none is extracted.
    res = tde.run(tde.Config(seed=1, repetitions="0,1", sentences=300, epochs=2, canaries=6, dp_epsilon=0))
    control = res.extra["per_group"]["planted 0x"]
    assert control["exposure"] < 5
    assert control["exact-match"] == 0.0


def test_candidate_scores_cover_every_secret_in_order():
    torch.manual_seed(0)
    model = tde.LanguageModel(vocab=tde.WORD0 + 3, hidden=8)
    scores = tde.candidate_log_perplexities(model, name=tde.WORD0, digits=2)
    assert scores.shape == (100,)
    assert torch.isfinite(scores).all() and (scores > 0).all()
    # Row 37 is the secret "3 7": score it by hand.
    seq = torch.tensor([tde.canary_prefix(tde.WORD0) + [tde.DIGIT0 + 3, tde.DIGIT0 + 7]])
    with torch.no_grad():
        logp = torch.log_softmax(model(seq[:, :-1]), dim=-1)[0]
    by_hand = -(logp[-2, tde.DIGIT0 + 3] + logp[-1, tde.DIGIT0 + 7])
    assert float(scores[37]) == pytest.approx(float(by_hand), rel=1e-5)


def test_exposure_metric_by_hand():
    assert exposure(0.5, [0.5, 1.0, 2.0, 3.0]) == pytest.approx(2.0)  # rank 1 of 4: log2 4
    assert exposure(3.0, [0.5, 1.0, 2.0, 3.0]) == pytest.approx(0.0)  # last of 4
    assert exposure(1.0, [1.0, 1.0, 0.5, 2.0]) == pytest.approx(1.0)  # ties favour the secret: rank 2
    with pytest.raises(ValueError):
        exposure(9.0, [0.5, 1.0])  # the secret must be among the candidates
    with pytest.raises(ValueError):
        exposure(1.0, [])


@pytest.mark.parametrize(
    "text",
    ["", "x", "0", "0,0", "1,-1", "2000", "1,,2"],
)
def test_bad_repetitions_are_refused(text):
    with pytest.raises(ValueError, match="repetitions"):
        tde.Config(repetitions=text)


@pytest.mark.parametrize(
    "bad", [{"digits": 0}, {"digits": 6}, {"beam": 0}, {"lr": 0.0}, {"canaries": 0}, {"dp_epsilon": -1.0}]
)
def test_impossible_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        tde.Config(**bad)
