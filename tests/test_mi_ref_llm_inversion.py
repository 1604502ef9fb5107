"""mi_ref.llm_inversion: prompts come back from next-token distributions and from hidden states."""

from __future__ import annotations

import pytest
import torch

from mi_ref import llm_inversion as lmi


@pytest.fixture(scope="module")
def result():
    return lmi.run(lmi.Config(seed=0))


@pytest.mark.slow
def test_search_recovers_prompts_the_baselines_do_not(result):
    attack, base = result.metrics, result.baselines
    nearest, learned, prior = (
        base["nearest neighbour in KL"],
        base["learned inverter alone"],
        base["prior guess (no output seen)"],
    )
    assert attack["exact-match"] >= 0.5
    assert attack["exact-match"] > nearest["exact-match"] + 0.25
    assert attack["exact-match"] > learned["exact-match"] + 0.25
    assert attack["token-f1"] > nearest["token-f1"] + 0.1
    # The output distribution alone already tells much about the prompt: the learned inverter
    # recovers far more words than guessing from the language's word frequencies.
    assert learned["token-f1"] > prior["token-f1"] + 0.25


@pytest.mark.slow
def test_certified_prompts_are_the_true_ones(result):
    # A KL of (almost) zero means the search found a prompt producing the same distribution; on a
    # trained model that prompt is the victim's (no false positives), and every exact hit is certified.
    assert result.extra["certified by KL <= match_tol"] == pytest.approx(result.metrics["exact-match"])
    assert result.extra["exact among certified"] == 1.0


@pytest.mark.slow
def test_hidden_states_give_every_prompt_back(result):
    white_box = result.baselines["hidden states, white-box (noise 0)"]
    assert white_box == {"token-f1": 1.0, "exact-match": 1.0}


def test_hidden_states_of_an_untrained_model_are_already_invertible():
    # Injectivity holds at initialisation too: random weights, random prompts, exact recovery.
    torch.manual_seed(0)
    model = lmi.LanguageModel(lmi.WORD0 + 20, hidden=32).eval()
    prompts = torch.randint(lmi.WORD0, lmi.WORD0 + 20, (64, 5))
    recovered = lmi.invert_hidden_states(model, lmi.hidden_states(model, prompts), words=20)
    assert torch.equal(recovered, prompts)


def test_drowned_hidden_states_leave_nothing_to_recover():
    # The test can fail: with noise far above the states' scale the nearest match is a guess.
    torch.manual_seed(0)
    model = lmi.LanguageModel(lmi.WORD0 + 20, hidden=32).eval()
    prompts = torch.randint(lmi.WORD0, lmi.WORD0 + 20, (200, 5))
    states = lmi.hidden_states(model, prompts)
    recovered = lmi.invert_hidden_states(model, states + 100 * torch.randn(states.shape), words=20)
    assert (recovered == prompts).float().mean() < 0.15  # chance is 1/20
    assert not torch.equal(recovered, prompts)


def test_kl_is_zero_only_for_the_prompt_itself():
    torch.manual_seed(0)
    model = lmi.LanguageModel(lmi.WORD0 + 10, hidden=16).eval()
    prompt = torch.tensor([[lmi.WORD0 + 1, lmi.WORD0 + 4, lmi.WORD0 + 7]])
    other = torch.tensor([[lmi.WORD0 + 1, lmi.WORD0 + 5, lmi.WORD0 + 7]])
    observed = lmi.next_token_logprobs(model, prompt)
    kl = lmi.kl_to_observed(model, observed, torch.stack([prompt, other], dim=1))
    assert kl.shape == (1, 2)
    assert float(kl[0, 0]) == pytest.approx(0.0, abs=1e-6)
    assert float(kl[0, 1]) > 1e-6
    # By hand: KL(p || q) = sum p (log p - log q).
    q = lmi.next_token_logprobs(model, other)
    assert float(kl[0, 1]) == pytest.approx(float((observed.exp() * (observed - q)).sum()), rel=1e-5)


def test_search_from_the_true_prompt_stays_and_from_one_wrong_word_repairs_it():
    torch.manual_seed(1)
    model = lmi.LanguageModel(lmi.WORD0 + 12, hidden=32).eval()
    prompts = torch.randint(lmi.WORD0, lmi.WORD0 + 12, (40, 4))
    observed = lmi.next_token_logprobs(model, prompts)
    found, kl = lmi.local_search(model, observed, prompts, words=12, steps=3, tol=1e-6)
    assert torch.equal(found, prompts) and (kl < 1e-6).all()
    for pos in range(4):
        one_off = prompts.clone()
        one_off[:, pos] = lmi.WORD0 + (one_off[:, pos] - lmi.WORD0 + 1) % 12  # one wrong word
        # The true prompt is one change away and the only one with KL 0: the first step takes it.
        found, kl = lmi.local_search(model, observed, one_off, words=12, steps=1, tol=1e-6)
        assert torch.equal(found, prompts), pos


def test_a_model_that_ignores_its_input_certifies_wrong_prompts():
    # Certification rests on the map being one-to-one: a model whose output does not depend on the
    # prompt matches every candidate, so "KL = 0" says nothing there.
    model = lmi.LanguageModel(lmi.WORD0 + 8, hidden=8).eval()
    with torch.no_grad():
        model.embed.weight.zero_()
    prompts = torch.full((10, 3), lmi.WORD0 + 5)
    guess = torch.full((10, 3), lmi.WORD0)
    found, kl = lmi.local_search(model, lmi.next_token_logprobs(model, prompts), guess, words=8, steps=2, tol=1e-6)
    assert (kl < 1e-6).all()
    assert not (found == prompts).all(1).any()


@pytest.mark.parametrize(
    "field, value",
    [("seed", -1), ("vocab", 1), ("prompt_len", 0), ("queries", 0), ("steps", -1), ("restarts", -2),
     ("match_tol", -1.0), ("state_noise", float("nan")), ("lr", 0.0), ("victims", 0)],
)  # fmt: skip
def test_impossible_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        lmi.Config(**{field: value})
