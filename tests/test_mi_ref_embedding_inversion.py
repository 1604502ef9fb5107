"""mi_ref.embedding_inversion: one-shot inverter vs frequency baseline; correction loop; a second language."""

from __future__ import annotations

import pytest
import torch

from mi_ref import embedding_inversion as ei


@pytest.fixture(scope="module")
def result():
    return ei.run(ei.Config(seed=0))


@pytest.mark.slow
def test_one_shot_token_f1_is_well_above_the_frequency_baseline(result):
    one_shot = result.baselines["one-shot inverter alone"]
    assert one_shot["token-f1"] > result.baselines["frequent words"]["token-f1"] + 0.3
    # Song & Raghunathan's bag-of-words inverter also beats word frequencies, by less.
    assert result.baselines["bag-of-words inverter"]["token-f1"] > result.baselines["frequent words"]["token-f1"] + 0.15


@pytest.mark.slow
def test_correction_loop_reaches_090_exact_match_where_the_guess_does_not(result):
    assert result.metrics["exact-match"] >= 0.9
    assert result.baselines["one-shot inverter alone"]["exact-match"] < 0.9
    assert result.metrics["exact-match"] > result.baselines["correction from a random start"]["exact-match"]


@pytest.mark.slow
def test_an_aligned_second_language_is_exposed_to_an_inverter_trained_on_the_first(result):
    b = result.extra["language_b"]
    assert b["aligned"]["one_shot_token_f1"] > b["unaligned"]["one_shot_token_f1"] + 0.3
    assert b["aligned"]["corrected_exact_match"] >= 0.9
    assert b["aligned"]["corrected_exact_match"] > b["unaligned"]["corrected_exact_match"]


def test_encoder_is_position_aware_and_deterministic():
    enc = ei.ToyEncoder(vocab=10, length=4, dim=16)
    s = torch.tensor([[1, 2, 3, 4]])
    assert torch.allclose(enc(s), enc(s))
    assert not torch.allclose(enc(s), enc(s.flip(1)))  # word order changes the embedding
    assert torch.allclose(enc(s).norm(dim=-1), torch.ones(1))


def test_correct_finds_a_sentence_one_edit_away():
    torch.manual_seed(0)
    enc = ei.ToyEncoder(vocab=12, length=5, dim=32)
    truth = torch.tensor([3, 1, 4, 1, 5])
    guess = truth.clone()
    guess[2] = 9
    fixed = ei.correct(enc, enc(truth[None])[0], guess, vocab=12, lang="A", beam=2, rounds=5)
    assert fixed.tolist() == truth.tolist()


@pytest.mark.parametrize(
    "bad",
    [
        {"vocab": 1},
        {"vocab": 1000, "length": 20},
        {"beam": 0},
        {"rounds": 0},
        {"alignment_noise": -0.1},
        {"n_targets": 0},
    ],
)
def test_impossible_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        ei.Config(**bad)


def test_token_f1_counts_repeated_tokens_and_ignores_order():
    from mi_ref.metrics import token_f1

    assert token_f1([1, 2, 3], [3, 2, 1]) == 1.0
    assert token_f1([1, 1, 1], [1, 2, 3]) == pytest.approx(1 / 3)  # only one "1" is shared
    assert token_f1([4, 5], [1, 2]) == 0.0
    assert token_f1([], []) == 1.0


def test_exact_match_needs_the_same_order():
    from mi_ref.metrics import exact_match

    assert exact_match([1, 2, 3], (1, 2, 3)) == 1.0
    assert exact_match([1, 2, 3], [3, 2, 1]) == 0.0
