"""Label leakage in two-party split learning: the gradients a feature party receives reveal the labels.

In two-party split learning the *passive* party holds the features $x$ and a bottom model
$h = f(x)$; the *active* party holds the labels $y$ and the top model. In every training step the
active party sends back, for each example, the gradient of the loss with respect to the cut layer,
$g = \\partial \\ell / \\partial h$. For a binary task with a logit $z$ and cross-entropy,
$g = (\\sigma(z) - y)\\, \\partial z / \\partial h$: the factor $\\sigma(z) - y$ is negative for
positives and positive for negatives, and on an imbalanced task the rare positives are predicted
worse, so their gradients are also larger. Two attacks by the passive party (`li2021labelleakage`):

- **norm**: score each example by $\\lVert g \\rVert$; positives score higher;
- **direction**: score each example by $\\cos(g, g_{+})$, the cosine with the gradient of one example
  the attacker knows to be positive; same-class gradients point the same way.

Leakage is the AUC of a score against the true labels (0.5 = no leakage). Two protections the active
party can apply before sending $g$, both from the paper's baselines:

- **Gaussian noise**: add $\\mathcal{N}(0, \\sigma^2 I)$ with $\\sigma$ = `noise` times the batch's mean
  gradient norm, per coordinate: with 32 coordinates the noise vector is about $\\sqrt{32} \\approx 5.7$
  times longer than a typical gradient already at 1x;
- **max norm**: add to each gradient isotropic noise just large enough that its expected norm equals
  the largest norm in the batch, hiding the norm signal.

With the defaults (seed 0; "is this digit a 0?", about 10% positives; a two-layer bottom model and a
one-layer top model, 10 epochs), leak AUC over the gradients of the last epoch, and the trained
model's own test AUC:

- no protection: norm 0.999, direction 1.000 (model 0.998);
- max norm: norm 0.560, but direction 0.987: hiding the norm leaves the direction giving the labels
  away (model 0.998);
- Gaussian noise at 1x the mean norm: norm 0.907, direction 0.982 (model 0.996);
- Gaussian noise at 4x: norm 0.612, direction 0.473, and the model's test AUC falls to 0.870.

Papers: `li2021labelleakage` (ICLR 2022).

How this differs from the paper:

1. Data are the 8x8 digits with "0 vs the rest" as the binary task (10% positives); the paper uses
   Criteo and Avazu click-through data with deep models.
2. The paper's own protection, Marvell, optimises the noise's covariance per batch to minimise the
   worst-case leak AUC under a utility budget; only its two simpler baselines are implemented here.
3. Leak AUC is measured over the last epoch's gradients, not tracked through training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, digits_split, one_thread, seed_everything

PAPERS = ("li2021labelleakage",)

PROTECTIONS = ("none", "gaussian", "max-norm")


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for the data split, both models' initialisation, the batches and the noise."""
    positive: int = 0
    """The digit that is the positive class ("is this digit a <positive>?"); about 10% of examples."""
    epochs: int = 10
    """Split-learning training epochs; the attacks read the gradients of the last one."""
    noise: float = 1.0
    """Gaussian protection: noise standard deviation, in units of the batch's mean gradient norm."""
    strong_noise: float = 4.0
    """A second, stronger Gaussian level, to show the trade-off."""
    lr: float = 1e-3
    """Adam learning rate of both models."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        if not 0 <= self.positive <= 9:
            raise ValueError(f"positive must be a digit from 0 to 9, got {self.positive}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        for name in ("noise", "strong_noise"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {value}")
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {self.lr}")


# --- core ---
def protect(grads: torch.Tensor, kind: str, noise: float, gen: torch.Generator) -> torch.Tensor:
    """What the active party sends for a batch of cut-layer gradients (B, d) under a protection."""
    if kind == "none":
        return grads
    d = grads.shape[1]
    if kind == "gaussian":
        sigma = noise * float(grads.norm(dim=1).mean())
        return grads + sigma * torch.randn(grads.shape, generator=gen)
    # max-norm: E||g + n||^2 = ||g||^2 + d sigma^2, so sigma_i = sqrt(max^2 - ||g_i||^2) / sqrt(d)
    norms = grads.norm(dim=1)
    sigma = (norms.max() ** 2 - norms**2).clamp_min(0).sqrt() / math.sqrt(d)
    return grads + sigma[:, None] * torch.randn(grads.shape, generator=gen)


def norm_scores(grads: torch.Tensor) -> torch.Tensor:
    """The norm attack: larger gradients are guessed positive."""
    return grads.norm(dim=1)


def direction_scores(grads: torch.Tensor, known_positive: int) -> torch.Tensor:
    """The direction attack: cosine with the gradient of one example known to be positive."""
    return F.cosine_similarity(grads, grads[known_positive][None], dim=1)


def train_split(
    x: torch.Tensor, y: torch.Tensor, cfg: Config, kind: str, noise: float
) -> tuple[nn.Module, nn.Module, torch.Tensor, torch.Tensor]:
    """Split learning with the protection applied to the gradients sent to the passive party.
    Returns the bottom and top models and the last epoch's received gradients with their labels."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)  # batches: the same for every protection
    noise_gen = torch.Generator().manual_seed(cfg.seed + 1)  # the protection's noise
    bottom = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())  # passive party
    top = nn.Linear(32, 1)  # active party
    opt_bottom = torch.optim.Adam(bottom.parameters(), lr=cfg.lr)
    opt_top = torch.optim.Adam(top.parameters(), lr=cfg.lr)
    for epoch in range(cfg.epochs):
        seen, labels = [], []
        for idx in torch.randperm(len(x), generator=gen).split(64):
            h = bottom(x[idx])
            h_sent = h.detach().requires_grad_(True)  # what crosses the cut
            loss = F.binary_cross_entropy_with_logits(top(h_sent).squeeze(1), y[idx], reduction="sum")
            opt_top.zero_grad()
            loss.backward()  # fills top's gradients and h_sent.grad = dl/dh per example
            opt_top.step()
            sent = protect(h_sent.grad, kind, noise, noise_gen)
            opt_bottom.zero_grad()
            h.backward(sent / len(idx))  # the passive party trains on what it received
            opt_bottom.step()
            if epoch == cfg.epochs - 1:
                seen.append(sent)
                labels.append(y[idx])
    return bottom.eval(), top.eval(), torch.cat(seen), torch.cat(labels)


# --- end core ---


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    split = digits_split(cfg.seed)
    x = torch.tensor(split["private"][0]).flatten(1)
    y = torch.tensor(split["private"][1] == cfg.positive, dtype=torch.float32)
    x_test = torch.tensor(split["private_test"][0]).flatten(1)
    y_test = split["private_test"][1] == cfg.positive

    rows = {}
    settings = [("none", "no protection", 0.0), ("max-norm", "max norm", 0.0),
                ("gaussian", f"Gaussian noise {cfg.noise:g}x", cfg.noise),
                ("gaussian", f"Gaussian noise {cfg.strong_noise:g}x", cfg.strong_noise)]  # fmt: skip
    for kind, name, noise in settings:
        with one_thread():
            bottom, top, grads, labels = train_split(x, y, cfg, kind, noise)
        known = int(labels.argmax())  # the one positive the direction attacker knows: the first in the epoch
        others = torch.arange(len(labels)) != known
        with torch.no_grad():
            test_scores = top(bottom(x_test)).squeeze(1)
        rows[name] = {
            "norm attack auc": metrics.auc(norm_scores(grads)[others].tolist(), labels[others].tolist()),
            "direction attack auc": metrics.auc(
                direction_scores(grads, known)[others].tolist(), labels[others].tolist()
            ),
            "model test auc": metrics.auc(test_scores.tolist(), y_test.tolist()),
        }

    def attack(row: dict[str, float]) -> dict[str, float]:
        return {"auc": max(row["norm attack auc"], row["direction attack auc"])}

    baseline_gen = np.random.default_rng(cfg.seed)
    return Result(
        metrics=attack(rows["no protection"]),
        baselines={
            "random guess": {"auc": metrics.auc(baseline_gen.random(len(y)).tolist(), y.tolist())},
            **{name: attack(row) for name, row in rows.items() if name != "no protection"},
        },
        extra={
            "attack column": "the better of the norm and direction attacks, no protection (leak AUC; picking the "
            "better one after seeing the labels makes each column an upper bound for an attacker who must choose)",
            "per protection": rows,
            "positives in the private split": float(y.mean()),
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
