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
  the attacker knows to be positive; same-class gradients point the same way;
- **alignment**: score by $|\\cos(g, g_{+})|$, for an attacker who expects noise along one line and
  ignores its sign (it is useless without protection, where negatives point exactly the other way).

Leakage is the AUC of a score against the true labels (0.5 = no leakage). Protections the active
party can apply before sending $g$:

- **Gaussian noise** (a baseline of the paper): add $\\mathcal{N}(0, \\sigma^2 I)$ with $\\sigma$ =
  `noise` times the batch's mean gradient norm, per coordinate: with 32 coordinates the noise vector is
  about $\\sqrt{32} \\approx 5.7$ times longer than a typical gradient already at 1x;
- **max norm** (a baseline of the paper): add to each gradient isotropic noise just large enough that
  its expected norm equals the largest norm in the batch, hiding the norm signal;
- **Marvell** (the paper's protection): per batch, model each class's gradients as Gaussian around
  the class mean $m_{\\pm}$ and choose class-dependent noise covariances that minimise the symmetric
  KL divergence between what the two classes send, under a power budget
  $p\\,E\\lVert n_{+} \\rVert^2 + (1-p)\\,E\\lVert n_{-} \\rVert^2 \\le P \\lVert m_{+} - m_{-} \\rVert^2$;
  under that model a small KL limits how well any score can separate the classes (Pinsker). Most of the budget goes along
  $m_{+} - m_{-}$, unevenly between the classes (`marvell_plan` says why);
- **isotropic noise at the same power**: the same budget spread evenly over all coordinates, to show
  what Marvell's shaping buys.

With the defaults (seed 0; "is this digit a 0?", about 10% positives; a two-layer bottom model and a
one-layer top model, 10 epochs), leak AUC of the norm / direction / alignment attacks over the
gradients of the last epoch, and the trained model's own test AUC:

| protection | norm | direction | alignment | model test AUC |
|---|---:|---:|---:|---:|
| none | 0.999 | 1.000 | 0.538 | 0.998 |
| max norm | 0.560 | 0.987 | 0.953 | 0.998 |
| Gaussian noise 1x the mean norm | 0.907 | 0.982 | 0.917 | 0.996 |
| Gaussian noise 4x the mean norm | 0.612 | 0.473 | 0.519 | 0.870 |
| Marvell, $P = 4$ | 0.567 | 0.299 | 0.705 | 0.994 |
| isotropic noise, $P = 4$ | 0.672 | 0.767 | 0.614 | 0.997 |

Hiding the norm leaves the direction giving the labels away; Marvell's best attack (0.705) is below
isotropic noise's (0.767) at the same power and much cheaper in utility than 4x Gaussian noise. A
direction AUC well below 0.5 still leaks: an attacker who knew to flip it would reach 0.70.

Papers: `li2021labelleakage` (ICLR 2022).

How this differs from the paper:

1. Data are the 8x8 digits with "0 vs the rest" as the binary task (10% positives); the paper uses
   Criteo and Avazu click-through data with deep models.
2. Marvell is simplified here (our choice, to keep the optimisation a readable grid search): each
   class's gradient spread is approximated as isotropic, which restricts the covariances to "along
   the class-mean difference" plus "across it", leaving two numbers to search. The power budget is in
   units of the squared class-mean distance.
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

PROTECTIONS = ("none", "gaussian", "max-norm", "marvell", "isotropic")
ATTACKS = ("norm", "direction", "alignment")


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
    marvell_power: float = 4.0
    """Marvell's noise budget: expected squared norm of the noise per example, in units of the squared
    distance between the batch's two class-mean gradients; the isotropic comparison spends the same."""
    lr: float = 1e-3
    """Adam learning rate of both models."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        if not 0 <= self.positive <= 9:
            raise ValueError(f"positive must be a digit from 0 to 9, got {self.positive}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        for name in ("noise", "strong_noise", "marvell_power"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {value}")
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {self.lr}")


# --- core ---
def protect(
    grads: torch.Tensor, kind: str, noise: float, gen: torch.Generator, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """What the active party sends for a batch of cut-layer gradients (B, d) under a protection.
    `noise` is the Gaussian level (units of the mean norm) or, for marvell and isotropic, the power
    budget (units of the squared class-mean distance); those two need the batch's labels."""
    if kind == "none":
        return grads
    d = grads.shape[1]
    if kind == "gaussian":
        sigma = noise * float(grads.norm(dim=1).mean())
        return grads + sigma * torch.randn(grads.shape, generator=gen)
    if kind == "max-norm":
        # E||g + n||^2 = ||g||^2 + d sigma^2, so sigma_i = sqrt(max^2 - ||g_i||^2) / sqrt(d)
        norms = grads.norm(dim=1)
        sigma = (norms.max() ** 2 - norms**2).clamp_min(0).sqrt() / math.sqrt(d)
        return grads + sigma[:, None] * torch.randn(grads.shape, generator=gen)
    if labels is None:
        raise ValueError(f"the {kind} protection needs the batch's labels")
    if not 0 < float(labels.sum()) < len(labels):
        return grads  # one class only (about 1 batch in 800 here): no class difference to hide in it
    plan = marvell_plan(grads, labels, noise)
    if kind == "isotropic":  # the same expected power, spread evenly over every coordinate
        sigma = math.sqrt(plan.budget / d)
        return grads + sigma * torch.randn(grads.shape, generator=gen)
    z = torch.randn(grads.shape, generator=gen, dtype=torch.float64)
    along = z @ plan.direction  # the noise's component along the class-mean difference
    across = z - along[:, None] * plan.direction
    positive = labels > 0.5
    a = torch.where(positive, plan.along_pos, plan.along_neg)
    b = torch.where(positive, plan.across_pos, plan.across_neg)
    noise_vec = a.sqrt()[:, None] * along[:, None] * plan.direction + b.sqrt()[:, None] * across
    return grads + noise_vec.to(grads.dtype)


@dataclass(frozen=True)
class MarvellPlan:
    """Per-class noise covariances  a * u u^T + b * (I - u u^T)  chosen for one batch."""

    direction: torch.Tensor  # u: unit vector along mean(positive gradients) - mean(negative gradients)
    along_pos: torch.Tensor
    across_pos: torch.Tensor
    along_neg: torch.Tensor
    across_neg: torch.Tensor
    budget: float  # expected squared noise norm per example, averaged over the batch
    kl: float  # symmetric KL between the two classes' (Gaussian-approximated) received gradients


def symmetric_kl(dist2, d, var_pos, var_neg, along_pos, across_pos, along_neg, across_neg):
    """KL(P||N) + KL(N||P) for P = N(m+, (s+ + a+) uu^T + (s+ + b+)(I - uu^T)) and the same for N,
    where ||m+ - m-||^2 = dist2 lies along u. Works elementwise on numpy arrays."""
    v_pos, v_neg = var_pos + along_pos, var_neg + along_neg  # variances along u
    w_pos, w_neg = var_pos + across_pos, var_neg + across_neg  # variances across u (d - 1 directions)
    r, q = v_pos / v_neg, w_pos / w_neg
    return 0.5 * (r + 1 / r - 2 + (d - 1) * (q + 1 / q - 2) + dist2 * (1 / v_pos + 1 / v_neg))


def marvell_plan(grads: torch.Tensor, labels: torch.Tensor, power: float, grid: int = 101) -> MarvellPlan:
    """Marvell (li2021labelleakage): choose the two classes' noise covariances that minimise the
    symmetric KL between their received gradients, under the budget
    p E||n+||^2 + (1 - p) E||n-||^2 <= power * ||m+ - m-||^2.

    The gradients of each class are approximated as Gaussian with the class mean and an isotropic
    spread s. Rotations about u = (m+ - m-) / ||m+ - m-|| then leave the problem unchanged, so the
    covariances are restricted to the form a uu^T + b (I - uu^T). Noise along u shrinks the mean term
    and can even out the two classes' variances along u; noise across u can only even out their
    spreads there, so it goes to the class with the smaller spread and never beyond equality (where
    its term is already zero). Two numbers are left -- how much of the budget evens out the spread
    across u, and how the rest is split between the classes along u -- and a grid search over
    grid x grid points finds them: coarse, but exact enough and easy to check."""
    pos, neg = grads[labels > 0.5].double(), grads[labels <= 0.5].double()
    d = grads.shape[1]
    diff = pos.mean(0) - neg.mean(0)
    dist2 = float(diff.pow(2).sum())
    var_pos = float((pos - pos.mean(0)).pow(2).sum(1).mean()) / d
    var_neg = float((neg - neg.mean(0)).pow(2).sum(1).mean()) / d
    p = len(pos) / len(grads)
    budget = power * dist2
    floor = 1e-12 * max(dist2, 1e-30)  # keeps a variance strictly positive when a class has one example
    var_pos, var_neg = var_pos + floor, var_neg + floor

    evening = np.linspace(0.0, 1.0, grid)[:, None]  # share of the spread gap closed across u
    pos_smaller = var_pos < var_neg
    share = p if pos_smaller else 1 - p  # the class that receives the across-u noise
    spend_across = np.minimum(evening * abs(var_pos - var_neg) * share * (d - 1), budget)
    across = spend_across / (share * (d - 1))
    zero = np.zeros_like(across)
    across_pos, across_neg = (across, zero) if pos_smaller else (zero, across)
    split = np.linspace(0.0, 1.0, grid)[None, :]  # share of the rest spent on the positives, along u
    rest = budget - spend_across
    along_pos, along_neg = split * rest / p, (1 - split) * rest / (1 - p)
    kl = symmetric_kl(dist2, d, var_pos, var_neg, along_pos, across_pos, along_neg, across_neg)
    i, j = np.unravel_index(int(np.argmin(kl)), kl.shape)

    def scalar(values: np.ndarray) -> torch.Tensor:  # the chosen grid point of a (broadcast) array
        return torch.tensor(float(np.broadcast_to(values, kl.shape)[i, j]), dtype=torch.float64)

    return MarvellPlan(
        direction=diff / math.sqrt(dist2),
        along_pos=scalar(along_pos),
        across_pos=scalar(across_pos),
        along_neg=scalar(along_neg),
        across_neg=scalar(across_neg),
        budget=budget,
        kl=float(kl[i, j]),
    )


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
            sent = protect(h_sent.grad, kind, noise, noise_gen, labels=y[idx])
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
                ("gaussian", f"Gaussian noise {cfg.strong_noise:g}x", cfg.strong_noise),
                ("marvell", f"Marvell, power {cfg.marvell_power:g}", cfg.marvell_power),
                ("isotropic", f"isotropic noise, power {cfg.marvell_power:g}", cfg.marvell_power)]  # fmt: skip
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
            "alignment attack auc": metrics.auc(
                direction_scores(grads, known)[others].abs().tolist(), labels[others].tolist()
            ),
            "model test auc": metrics.auc(test_scores.tolist(), y_test.tolist()),
        }

    def attack(row: dict[str, float]) -> dict[str, float]:
        return {"auc": max(row[f"{name} attack auc"] for name in ATTACKS)}

    baseline_gen = np.random.default_rng(cfg.seed)
    return Result(
        metrics=attack(rows["no protection"]),
        baselines={
            "random guess": {"auc": metrics.auc(baseline_gen.random(len(y)).tolist(), y.tolist())},
            **{name: attack(row) for name, row in rows.items() if name != "no protection"},
        },
        extra={
            "attack column": "the best of the norm, direction and alignment attacks, no protection (leak AUC; picking the "
            "best one after seeing the labels makes each column an upper bound for an attacker who must choose)",
            "per protection": rows,
            "positives in the private split": float(y.mean()),
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
