"""mi_ref.gradient_inversion: DLG + iDLG on one digit, Inverting Gradients on a batch, against baselines."""

from __future__ import annotations

import pytest
import torch

from mi_ref import gradient_inversion as gi


@pytest.fixture(scope="module")
def result():
    return gi.run(gi.Config(seed=0))


def test_dlg_single_digit_beats_40db_and_the_mean_digit(result):
    assert result.metrics["psnr"] > 40
    assert min(result.extra["dlg_single_psnr_each"]) > 40
    assert result.metrics["psnr"] > result.baselines["public mean digit / majority label"]["psnr"] + 20


def test_idlg_recovers_every_label_and_beats_majority(result):
    assert result.metrics["label-acc"] == 1.0
    assert result.baselines["public mean digit / majority label"]["label-acc"] < 0.5


def test_inverting_gradients_batch_of_four_above_25db(result):
    assert len(result.extra["ig_batch_psnr_each"]) == 4
    assert result.extra["ig_batch_label_acc"] == 1.0
    assert result.extra["ig_batch_psnr_mean"] > 25
    assert result.extra["ig_batch_psnr_mean"] > result.extra["ig_batch_mean_digit_psnr"] + 10


def test_reconstructions_are_images_in_range(result):
    assert result.targets.shape == result.reconstructions.shape == (8, 8, 8)
    assert result.reconstructions.min() >= 0 and result.reconstructions.max() <= 1


def test_idlg_label_reads_the_negative_row():
    net = gi.sigmoid_mlp(1)
    x = torch.rand(1, 1, 8, 8)
    for label in range(10):
        grads = gi.param_gradients(net, x, torch.tensor([label]), create_graph=False)
        assert gi.idlg_label(grads) == label


def test_batch_labels_finds_distinct_labels():
    net = gi.relu_cnn(2)
    x, y = torch.rand(3, 1, 8, 8), torch.tensor([7, 2, 5])
    grads = gi.param_gradients(net, x, y, create_graph=False)
    assert gi.batch_labels(grads, 3).tolist() == [2, 5, 7]


def test_total_variation_is_zero_on_flat_images_only():
    assert float(gi.total_variation(torch.full((2, 1, 8, 8), 0.3))) == 0.0
    assert float(gi.total_variation(torch.rand(2, 1, 8, 8))) > 0


@pytest.mark.parametrize(
    "bad", [{"batch_size": 11}, {"batch_size": 0}, {"ig_steps": 0}, {"tv_weight": -1.0}, {"n_single": 0}, {"lr": 0.0}]
)
def test_impossible_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        gi.Config(**bad)


def test_label_acc_matches_labels_as_multisets():
    from mi_ref.metrics import label_acc

    assert label_acc([3, 1], [1, 3]) == 1.0
    assert label_acc([1, 1], [1, 3]) == 0.5
    assert label_acc([0], [7]) == 0.0
    with pytest.raises(ValueError):
        label_acc([1], [])


def test_cli_rejects_an_impossible_batch_with_exit_code_2(capsys):
    assert gi.main(["--batch-size", "11"]) == 2
    assert "batch_size" in capsys.readouterr().err
