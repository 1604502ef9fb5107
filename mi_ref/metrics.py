"""Metrics for judging model-inversion attacks, one function per catalogue metric.

Each function's docstring starts with the catalogue page it computes ("Catalogue:
catalog/metrics/<id>.yaml"), and that page's `implementation:` names the function back; a test
(tests/test_mi_ref_metrics_links.py) keeps both directions true. Image metrics take float arrays
in [0, 1]: one image (H, W) or a batch (N, H, W); batches are averaged per image.

Other mi_ref modules add their metrics by appending functions at the end of this file.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

# PSNR of an exact copy is infinite; flooring the MSE keeps figures finite (and JSON-safe):
# a perfect reconstruction scores 10 * log10(1 / 1e-10) = 100 dB.
_MSE_FLOOR = 1e-10


def _pair(target: np.ndarray, recon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(target, dtype=np.float64)
    r = np.asarray(recon, dtype=np.float64)
    if t.shape != r.shape:
        raise ValueError(f"target shape {t.shape} and reconstruction shape {r.shape} differ")
    return t, r


def mse(target: np.ndarray, recon: np.ndarray) -> float:
    """Catalogue: catalog/metrics/mse.yaml

    Mean squared error over all pixels (of all images when given a batch)."""
    t, r = _pair(target, recon)
    return float(np.mean((t - r) ** 2))


def psnr(target: np.ndarray, recon: np.ndarray, max_value: float = 1.0) -> float:
    """Catalogue: catalog/metrics/psnr.yaml

    Peak signal-to-noise ratio in dB, 10 log10(MAX^2 / MSE). For a batch (N, H, W) it is computed
    per image and averaged, as papers report it. MSE is floored at 1e-10 (so at most 100 dB for MAX=1)."""
    t, r = _pair(target, recon)
    if t.ndim == 3:
        return float(np.mean([psnr(ti, ri, max_value) for ti, ri in zip(t, r)]))
    err = max(float(np.mean((t - r) ** 2)), _MSE_FLOOR)
    return float(10.0 * np.log10(max_value**2 / err))


def ssim(target: np.ndarray, recon: np.ndarray, data_range: float = 1.0, win_size: int = 7) -> float:
    """Catalogue: catalog/metrics/ssim.yaml

    Structural similarity (Wang et al. 2004): luminance, contrast and structure compared in every
    win_size x win_size window (uniform, as scikit-image's default; the 11x11 Gaussian of the paper
    would not fit an 8x8 digit), then averaged; batches are averaged per image."""
    t, r = _pair(target, recon)
    if t.ndim == 3:
        return float(np.mean([ssim(ti, ri, data_range, win_size) for ti, ri in zip(t, r)]))
    if t.ndim != 2 or min(t.shape) < win_size:
        raise ValueError(f"ssim needs 2-D images at least {win_size}x{win_size}, got {t.shape}")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    tw = np.lib.stride_tricks.sliding_window_view(t, (win_size, win_size))  # (H-w+1, W-w+1, w, w)
    rw = np.lib.stride_tricks.sliding_window_view(r, (win_size, win_size))
    n = win_size * win_size
    mu_t, mu_r = tw.mean((-2, -1)), rw.mean((-2, -1))
    # Sample (co)variances, N/(N-1), as scikit-image's default.
    var_t = tw.var((-2, -1)) * n / (n - 1)
    var_r = rw.var((-2, -1)) * n / (n - 1)
    cov = ((tw - mu_t[..., None, None]) * (rw - mu_r[..., None, None])).sum((-2, -1)) / (n - 1)
    s = ((2 * mu_t * mu_r + c1) * (2 * cov + c2)) / ((mu_t**2 + mu_r**2 + c1) * (var_t + var_r + c2))
    return float(s.mean())


def _as_batch(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.asarray(images, dtype=np.float32))


def _topk_hits(evaluator: nn.Module, images: np.ndarray, classes: np.ndarray, k: int) -> float:
    with torch.no_grad():
        logits = evaluator(_as_batch(images))  # (N, C)
    topk = logits.topk(k, dim=1).indices  # (N, k)
    hits = (topk == torch.as_tensor(np.asarray(classes)).long()[:, None]).any(1)
    return float(hits.float().mean())


def attack_acc_top1(evaluator: nn.Module, images: np.ndarray, classes: np.ndarray) -> float:
    """Catalogue: catalog/metrics/attack-acc-top1.yaml

    Share of reconstructions that the evaluation model (never the target) puts in the intended class."""
    return _topk_hits(evaluator, images, classes, 1)


def attack_acc_top5(evaluator: nn.Module, images: np.ndarray, classes: np.ndarray) -> float:
    """Catalogue: catalog/metrics/attack-acc-top5.yaml

    Share of reconstructions whose intended class is among the evaluation model's five top classes."""
    return _topk_hits(evaluator, images, classes, 5)


def knn_dist(
    evaluator: nn.Module,
    images: np.ndarray,
    classes: np.ndarray,
    private_images: np.ndarray,
    private_labels: np.ndarray,
) -> float:
    """Catalogue: catalog/metrics/knn-dist.yaml

    For each reconstruction of class c, the smallest squared L2 distance between its evaluation-model
    features and those of the private samples of class c; averaged over reconstructions."""
    classes = np.asarray(classes)
    private_labels = np.asarray(private_labels)
    with torch.no_grad():
        f_rec = evaluator.features(_as_batch(images))  # (N, D)
        f_priv = evaluator.features(_as_batch(private_images))  # (M, D)
    dists = torch.cdist(f_rec, f_priv) ** 2  # (N, M)
    same = torch.as_tensor(classes[:, None] == private_labels[None, :])
    if not bool(same.any(1).all()):
        raise ValueError("knn_dist: some reconstruction's class has no private sample")
    return float(dists.masked_fill(~same, float("inf")).min(1).values.mean())


def token_f1(prediction: list, reference: list) -> float:
    """Catalogue: catalog/metrics/token-f1.yaml

    F1 between the multiset of recovered tokens and the multiset of original tokens (order ignored;
    a token counts as often as it occurs in both), as in SQuAD's evaluation. 1.0 when both are empty."""
    from collections import Counter

    prediction, reference = list(prediction), list(reference)
    if not prediction and not reference:
        return 1.0
    common = sum((Counter(prediction) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(reference)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: list, reference: list) -> float:
    """Catalogue: catalog/metrics/exact-match.yaml

    1.0 when the recovered token sequence equals the original exactly (same tokens, same order), else 0.0;
    average it over sentences for the exact-match rate."""
    return float(list(prediction) == list(reference))


def auc(scores: list, labels: list) -> float:
    """Catalogue: catalog/metrics/auc.yaml

    Area under the ROC curve of `scores` against binary `labels` (1 = positive, e.g. a true edge): the
    probability that a random positive outscores a random negative, ties counting half."""
    from sklearn.metrics import roc_auc_score

    labels = [int(v) for v in labels]
    if len(set(labels)) < 2:
        raise ValueError("auc needs at least one positive and one negative label")
    return float(roc_auc_score(labels, [float(s) for s in scores]))


def label_acc(predicted: list, true: list) -> float:
    """Catalogue: catalog/metrics/label-acc.yaml

    Share of a batch's true labels that the attack recovered, matching the two label lists as multisets
    (a batch's order is not identifiable); for a batch of one it is 1.0 or 0.0."""
    from collections import Counter

    predicted, true = list(predicted), list(true)
    if not true:
        raise ValueError("label_acc needs at least one true label")
    return sum((Counter(predicted) & Counter(true)).values()) / len(true)


def student_acc(student: nn.Module, test_images: np.ndarray, test_labels: np.ndarray) -> float:
    """Catalogue: catalog/metrics/student-acc.yaml

    Top-1 accuracy on real held-out data of a student trained only on synthesised data."""
    with torch.no_grad():
        pred = student(_as_batch(test_images)).argmax(1).numpy()
    return float((pred == np.asarray(test_labels)).mean())


def attribute_acc(guesses: np.ndarray, truth: np.ndarray) -> float:
    """Catalogue: catalog/metrics/attribute-acc.yaml

    Share of records whose sensitive attribute the attack guessed right."""
    guesses, truth = np.asarray(guesses), np.asarray(truth)
    if guesses.shape != truth.shape or guesses.size == 0:
        raise ValueError(f"attribute_acc needs two equal, non-empty shapes, got {guesses.shape} and {truth.shape}")
    return float((guesses == truth).mean())


def exposure(secret_score: float, candidate_scores: list) -> float:
    """Catalogue: catalog/metrics/exposure.yaml

    Secret Sharer exposure in bits: log2 |R| - log2 rank, where `candidate_scores` are the
    log-perplexities of every candidate secret in R (the planted one included) and the rank of
    `secret_score` counts the candidates scored strictly lower, plus one (ties favour the secret)."""
    scores = np.asarray(candidate_scores, dtype=np.float64)
    if scores.size == 0 or not np.isfinite(scores).all() or not math.isfinite(secret_score):
        raise ValueError("exposure needs a finite secret score and a non-empty list of finite candidate scores")
    if not (scores == secret_score).any():
        raise ValueError("exposure: the secret's score must be one of the candidate scores (R includes the secret)")
    rank = 1 + int((scores < secret_score).sum())
    return math.log2(scores.size) - math.log2(rank)
