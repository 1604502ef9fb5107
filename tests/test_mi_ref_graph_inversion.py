"""mi_ref.graph_inversion: GraphMI edge recovery against feature-similarity and same-label baselines."""

from __future__ import annotations

import pytest
import torch

from mi_ref import graph_inversion as gm


@pytest.fixture(scope="module")
def result():
    return gm.run(gm.Config(seed=0))


def test_graphmi_beats_feature_similarity_by_a_clear_margin(result):
    # Margin 0.1 AUC: observed 0.15 on seed 0 (0.18-0.21 on seeds 1-2).
    assert result.metrics["auc"] > result.baselines["feature cosine similarity"]["auc"] + 0.1


def test_label_based_graphmi_is_close_to_knowing_the_labels(result):
    # Honest reading: from labels alone the attack mostly recovers community structure.
    assert abs(result.metrics["auc"] - result.baselines["same label"]["auc"]) < 0.05


def test_model_outputs_reveal_edges_beyond_the_labels(result):
    assert result.extra["graphmi_from_outputs_auc"] > result.baselines["same label"]["auc"] + 0.05


def test_the_gcn_uses_the_graph(result):
    assert result.extra["gcn_test_accuracy"] > result.extra["gcn_test_accuracy_without_edges"] + 0.05


def test_normalise_is_symmetric_with_unit_spectral_radius():
    adj = torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])
    prop = gm.normalise(adj)
    assert torch.allclose(prop, prop.T)
    assert torch.isclose(torch.linalg.eigvalsh(prop).max(), torch.tensor(1.0), atol=1e-5)


@pytest.mark.parametrize(
    "bad", [{"communities": 1}, {"nodes": 5}, {"p_in": 1.5}, {"attack_steps": 0}, {"sparsity": -1.0}]
)
def test_impossible_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        gm.Config(**bad)


def test_auc_ranks_positives_over_negatives():
    from mi_ref.metrics import auc

    assert auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == 1.0
    assert auc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]) == 0.0
    assert auc([0.5, 0.5], [1, 0]) == 0.5
    with pytest.raises(ValueError):
        auc([0.1, 0.2], [1, 1])
