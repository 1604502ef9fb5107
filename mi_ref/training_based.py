"""Training-based model inversion: learn a decoder from confidence vectors back to inputs.

Optimisation attacks need gradients and search anew for every image. Yang et al. instead *train*
an inversion model $g$ once, from the attacker's own auxiliary data $D_{aux}$, using the target $f$
only as a black box that returns confidence vectors:

$$g^\\star = \\arg\\min_g \\sum_{x \\in D_{aux}} \\ell\\big(g(\\phi(f(x))), x\\big), \\qquad
  \\hat{x} = g^\\star(\\phi(f(x_{private})))$$

At attack time one query per private input is enough: the returned vector $f(x)$ (10 numbers) goes
through $g$ and comes out as an image. Here $\\phi(p) = \\log p$ (rescaled), because a confident
target squeezes everything but the top class into tiny probabilities whose logarithms still differ,
and $\\ell$ is per-pixel binary cross-entropy.

What the decoder recovers beyond the label is the point: the label-only oracle baseline draws the
public mean image of the true class (what anyone who knows only the label could draw). The attack
must beat it in PSNR on the actual private inputs, and the evaluation model must still see the right
class in the reconstructions.

Papers: `yang2019adversarial` (Yang, Zhang, Chang and Liang, CCS 2019).

How this differs from the papers:

1. Data are 8x8 digits, the target a small MLP; the paper uses FaceScrub/CelebA, CIFAR-10 and MNIST
   with CNN targets and a transposed-convolution inversion model.
2. The decoder sees log-confidences, not the raw vector; the paper's "truncation" of the vector to
   its top-k entries (for partial outputs) is left out: the full vector is released here.
3. Auxiliary data come from the same distribution as the private data (a disjoint public split of
   the digits), the paper's easiest setting; no generic or distribution-shifted auxiliary set.
4. The paper's joint training with the classifier (the "adversarial" part, used as a defence) is
   not implemented; only the attack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, digits_world, seed_everything

PAPERS = ("yang2019adversarial",)

# log p in [log 1e-8, 0] = [-18.4, 0] is mapped to [0, 1] so the decoder's inputs are O(1).
LOG_FLOOR = 1e-8


@dataclass(frozen=True)
class Config:
    """Settings of one training-based inversion run on the digits world."""

    seed: int = 0
    """Seeds the world (splits, models) and the decoder's training."""
    n_targets: int = 200
    """Private training samples to reconstruct (at most the private split's size, 719)."""
    epochs: int = 200
    """Passes of decoder training over the auxiliary (public) split."""
    hidden: int = 256
    """Width of the decoder's two hidden layers."""
    lr: float = 1e-3
    """Adam learning rate of the decoder."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if not 1 <= self.n_targets <= 719:
            raise ValueError(f"n_targets must be between 1 and 719 (the private split's size), got {self.n_targets}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.hidden < 1:
            raise ValueError(f"hidden must be at least 1, got {self.hidden}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


class BlackBox:
    """The target as an API: images in, confidence vectors out; no gradients, no weights."""

    def __init__(self, model: nn.Module) -> None:
        self._model = model

    def __call__(self, images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return F.softmax(self._model(torch.as_tensor(images, dtype=torch.float32)), dim=1).numpy()


# --- core ---
def features(confidences: np.ndarray) -> torch.Tensor:
    """phi(p): log-confidences rescaled to [0, 1]; (N, C) -> (N, C)."""
    log_p = np.log(np.clip(confidences, LOG_FLOOR, 1.0))
    return torch.tensor(1 + log_p / -np.log(LOG_FLOOR), dtype=torch.float32)


def fit_decoder(
    inputs: torch.Tensor, pixels: torch.Tensor, hidden: int, epochs: int, lr: float, seed: int
) -> nn.Module:
    """Fit an MLP decoder inputs (N, D) -> pixel logits (N, 64) with per-pixel binary cross-entropy."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    decoder = nn.Sequential(
        nn.Linear(inputs.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, 64),
    )  # fmt: skip
    opt = torch.optim.Adam(decoder.parameters(), lr=lr)
    for _ in range(epochs):
        for idx in torch.randperm(len(pixels), generator=gen).split(64):
            loss = F.binary_cross_entropy_with_logits(decoder(inputs[idx]), pixels[idx])  # per-pixel BCE
            opt.zero_grad()
            loss.backward()
            opt.step()
    return decoder.eval()


def train_decoder(query: Callable[[np.ndarray], np.ndarray], x_aux: np.ndarray, cfg: Config) -> nn.Module:
    """Fit g: phi(f(x)) -> x on the auxiliary images x_aux (N, 8, 8), querying the black box once."""
    inputs = features(query(x_aux))  # (N, 10): the only thing the target ever gives us
    pixels = torch.tensor(x_aux, dtype=torch.float32).flatten(1)  # (N, 64)
    return fit_decoder(inputs, pixels, cfg.hidden, cfg.epochs, cfg.lr, cfg.seed)


def invert(decoder: nn.Module, confidences: np.ndarray) -> np.ndarray:
    """Reconstructions (N, 8, 8) in [0, 1] from released confidence vectors (N, C)."""
    with torch.no_grad():
        return torch.sigmoid(decoder(features(confidences))).view(-1, 8, 8).numpy()


# --- end core ---


def run(cfg: Config) -> Result:
    torch.set_num_threads(1)  # tiny models: one thread is faster than two contending ones, and repeatable
    seed_everything(cfg.seed)
    world = digits_world(cfg.seed)
    query = BlackBox(world.target)
    decoder = train_decoder(query, world.x_public, cfg)
    targets, labels = world.x_private[: cfg.n_targets], world.y_private[: cfg.n_targets]
    recon = invert(decoder, query(targets))  # one query per private input
    oracle = world.public_class_means()[labels]  # knows the true label, nothing else

    def judge(images: np.ndarray) -> dict[str, float]:
        return {
            "psnr": metrics.psnr(targets, images),
            "ssim": metrics.ssim(targets, images),
            "mse": metrics.mse(targets, images),
            "attack-acc-top1": metrics.attack_acc_top1(world.evaluator, images, labels),
        }

    return Result(
        metrics=judge(recon),
        baselines={"label-only oracle (public class mean)": judge(oracle)},
        targets=targets[:20],
        reconstructions=recon[:20],
        extra={"grid": "top row: private input, bottom row: reconstruction from its confidence vector"},
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
