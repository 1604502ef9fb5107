"""mi_ref.regularisers: MID, BiDO-HSIC and (negative) label smoothing against GMI, with test accuracy."""

from __future__ import annotations

import pytest
import torch

from mi_ref import regularisers as rg
from mi_ref.bench import default_result


@pytest.fixture(scope="module")
def rows():
    # The default run, shared with tests/test_mi_ref_bench.py.
    return default_result("regularisers").extra["per_defense"]


@pytest.mark.slow
def test_gmi_inverts_the_undefended_target(rows):
    assert rows["none"]["attack-acc-top1"] >= 0.9
    assert rows["none"]["test-acc"] >= 0.95


@pytest.mark.slow
def test_bido_at_usable_accuracy_meets_the_issue_margin_only_against_a_one_start_attacker(rows):
    # Issue 9 asks for GMI attack accuracy <= 0.6 at test accuracy >= 0.95. BiDO meets it against GMI
    # searching from one random start per reconstruction...
    usable = {k: v for k, v in rows.items() if k.startswith("BiDO") and v["test-acc"] >= 0.95}
    assert usable, "no BiDO setting keeps test accuracy >= 0.95"
    assert rows["none"]["attack-acc-top1-one-start"] >= 0.75
    assert min(v["attack-acc-top1-one-start"] for v in usable.values()) <= 0.6
    # ...but not against GMI's own published protocol (best of five starts, picked by the target)...
    assert all(v["attack-acc-top1-gmi"] > 0.6 for v in usable.values())
    # ...nor against selection: in this world (ten digit classes, a public generator of the same
    # classes) keeping the generated samples a 95%-accurate target is surest about already wins, for
    # every usable target, defended or not. That bounds what any training regulariser can do here.
    for name, row in rows.items():
        if row["test-acc"] >= 0.95:
            assert row["attack-acc-top1-select"] >= 0.9, name
    # A one-start result is fragile: MID at beta 0.1, which does not slow the stronger attackers,
    # moves it almost as much as BiDO.
    assert rows["MID beta=0.1"]["attack-acc-top1-one-start"] <= rows["none"]["attack-acc-top1-one-start"] - 0.15
    # What BiDO does achieve against the strong attackers: reconstructions move away from the private
    # samples (KNN distance), and its best usable setting slows the full search.
    assert max(v["knn-dist"] for v in usable.values()) >= 1.5 * rows["none"]["knn-dist"]
    assert min(v["attack-acc-top1-full"] for v in usable.values()) <= 0.85


@pytest.mark.slow
def test_only_regularisers_that_ruin_accuracy_stop_gmi(rows):
    stopped = {k: v for k, v in rows.items() if v["attack-acc-top1"] <= 0.6}
    assert "BiDO 20:10" in stopped
    assert all(v["test-acc"] <= rows["none"]["test-acc"] - 0.3 for v in stopped.values())


@pytest.mark.slow
def test_mid_at_usable_accuracy_neither_stops_nor_slows_gmi(rows):
    mid = rows["MID beta=0.1"]
    assert mid["test-acc"] >= 0.95
    assert mid["attack-acc-top1"] >= 0.9 and mid["attack-acc-top1-short"] >= 0.9


@pytest.mark.slow
def test_negative_smoothing_hinders_and_positive_smoothing_helps(rows):
    nls, ls = rows["LS alpha=-0.05"], rows["LS alpha=0.1"]
    assert nls["attack-acc-top1-full"] <= rows["none"]["attack-acc-top1"] - 0.2  # the full search suffers
    assert nls["attack-acc-top1"] < rows["none"]["attack-acc-top1"]  # the better budget, much less so
    assert nls["test-acc"] >= 0.8  # reported and bounded: it costs about 13 points here
    assert ls["knn-dist"] < rows["none"]["knn-dist"]  # positive smoothing: closer reconstructions


def test_hsic_is_larger_for_dependent_data():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(200, 5, generator=gen)
    assert float(rg.hsic(a, a**2 + a)) > 2 * float(rg.hsic(a, torch.randn(200, 5, generator=gen)))


def test_negative_smoothing_puts_negative_targets_off_class():
    logits = torch.zeros(1, 10, requires_grad=True)
    rg.smoothed_ce(logits, torch.tensor([3]), -0.1).backward()
    # d/dlogit_j = p_j - target_j: with target_j < 0 off-class, each off-class logit is pushed down harder.
    assert float(logits.grad[0, 0]) > 0.1 + 0.01 - 1e-6


@pytest.mark.parametrize(
    "kwargs",
    [{"mid_betas": "-1"}, {"bido_weights": "1"}, {"bido_weights": "-1:1"}, {"nls_alphas": "1.5"}, {"epochs": 0},
     {"short_steps": 500}],
)  # fmt: skip
def test_impossible_settings_are_rejected(kwargs, capsys):
    with pytest.raises(ValueError):
        rg.Config(**kwargs)
    flag, value = next(iter(kwargs.items()))
    assert rg.main([f"--{flag.replace('_', '-')}={value}"]) == 2
    assert "error:" in capsys.readouterr().err
