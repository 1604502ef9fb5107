"""mi_ref.output_defenses: rounding, top-k truncation and label-preserving noise vs a defense-aware decoder."""

from __future__ import annotations

import numpy as np
import pytest

from mi_ref import output_defenses as od
from mi_ref.bench import default_result


@pytest.fixture(scope="module")
def result():
    return default_result("output_defenses")  # the default run, shared with tests/test_mi_ref_bench.py


def advantage(result, name: str) -> float:
    """dB the attack gains over the label-only oracle (what the label alone reveals)."""
    return result.extra["per_defense"][name]["psnr"] - result.baselines["label-only oracle (public class mean)"]["psnr"]


@pytest.mark.slow
def test_undefended_decoder_beats_the_label_only_oracle(result):
    assert advantage(result, "none") > 1.0


@pytest.mark.slow
def test_top_1_and_noise_leave_only_the_label(result):
    rows = result.extra["per_defense"]
    for name in ("top-1 only", "noise sigma=0.1"):
        assert advantage(result, name) <= 0.2
        assert rows[name]["test-acc"] == rows["none"]["test-acc"]  # the label is released unchanged
    # With noise, the decoder alone is worse than the label: the aware attacker falls back on it.
    assert rows["noise sigma=0.1"]["psnr_decoder"] < rows["noise sigma=0.1"]["psnr_label_fallback"]


@pytest.mark.slow
def test_rounding_to_two_decimals_removes_most_of_the_advantage_at_no_cost(result):
    rows = result.extra["per_defense"]
    assert advantage(result, "round to 2 decimals") <= 0.3 * advantage(result, "none")
    assert rows["round to 2 decimals"]["test-acc"] >= rows["none"]["test-acc"] - 0.01
    assert rows["round to 2 decimals"]["l1-distortion"] < 0.01


@pytest.mark.slow
def test_top_3_truncation_keeps_most_of_the_leak(result):
    # Our finding, pinned: the three largest confidences carry most of what the decoder uses.
    assert advantage(result, "top-3 only") >= 0.5 * advantage(result, "none")


def test_truncate_and_noise_keep_shapes_and_labels():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(10), size=50).astype(np.float32)
    top2 = od.truncate_top_k(p, 2)
    assert ((top2 > 0).sum(1) == 2).all() and (top2.argmax(1) == p.argmax(1)).all()
    noisy = od.noisy_confidences(p, 0.5, rng)
    assert np.allclose(noisy.sum(1), 1, atol=1e-5) and (noisy.argmax(1) == p.argmax(1)).all()


@pytest.mark.parametrize(
    "kwargs", [{"n_targets": 0}, {"decimals": "-1"}, {"top_k": "11"}, {"top_k": "1.5"}, {"epochs": 0}]
)
def test_impossible_settings_are_rejected(kwargs, capsys):
    with pytest.raises(ValueError):
        od.Config(**kwargs)
    flag, value = next(iter(kwargs.items()))
    assert od.main([f"--{flag.replace('_', '-')}={value}"]) == 2
    assert "error:" in capsys.readouterr().err
