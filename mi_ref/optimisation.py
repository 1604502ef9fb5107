"""Optimisation-based white-box model inversion (MI-Face): gradient descent on the input.

The attacker holds a trained classifier $f$ (weights and gradients: white-box) and a class label
$y$, and wants an image that stands for the class, e.g. a person's face from their name. MI-Face
searches the input space directly:

$$\\hat{x}_y = \\arg\\min_{x \\in [0,1]^{H \\times W}} \\; 1 - f_y(x) + \\lambda \\lVert x \\rVert_2^2 / HW$$

where $f_y(x)$ is the target's softmax confidence in class $y$. Each step moves $x$ against the
gradient and clips it back into the pixel box. Against a softmax regression $f_y(x) =
\\mathrm{softmax}(Wx + b)_y$ the gradient is a mix of the class's weight row and the others', so the
image drifts towards the class "template"; against an MLP it follows the network's decision surface.

The attack is judged by an evaluation model that the attacker never touched: does it see class $y$
in $\\hat{x}_y$ (attack accuracy), and how close is $\\hat{x}_y$ to the nearest real private sample
of class $y$ in the evaluator's feature space (KNN distance)? Baselines: an all-zeros image and a
uniform-noise image, judged the same way.

Papers: `fredrikson2015mi` (MI-Face, CCS 2015).

How this differs from the papers:

1. Data are 8x8 digits (ten classes) rather than 112x92 AT&T faces (forty people).
2. Each step has a fixed length (the gradient is divided by its norm), not a fixed learning rate:
   with $1 - f_y$ the raw gradient vanishes as confidence saturates, and a normalised step keeps
   one step size good for both targets.
3. The paper's auxiliary term and "Process" step (denoising and sharpening between steps) are
   replaced by a small L2 penalty on the pixels; in our trials on the digits, blurring or a total-
   variation penalty made reconstructions worse by the KNN distance.
4. The paper stops after a fixed budget or when the cost stops improving; here the budget alone.
5. Several restarts per class (from tiny random images, not only from zero) give several
   reconstructions per class to average the metrics over.
6. The denoising-autoencoder target of the paper is left out; softmax regression and an MLP remain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import NUM_CLASSES, Result, accuracy, cli, digits_world, seed_everything

PAPERS = ("fredrikson2015mi",)
TARGETS = ("softmax", "mlp")


@dataclass(frozen=True)
class Config:
    """Settings of one MI-Face run on the digits world."""

    seed: int = 0
    """Seeds the world (splits, models) and the attack's random starts."""
    target_arch: str = "mlp"
    """The model under attack: 'softmax' (multinomial logistic regression) or 'mlp'."""
    per_class: int = 5
    """Reconstructions per class (independent random starts)."""
    steps: int = 300
    """Gradient steps per reconstruction."""
    step_size: float = 0.1
    """L2 length of each step in pixel space (pixels are in [0, 1])."""
    l2_weight: float = 0.02
    """Weight of the mean squared pixel value in the cost: a weak 'dark background' prior."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.target_arch not in TARGETS:
            raise ValueError(f"target_arch must be one of {', '.join(TARGETS)}, got {self.target_arch!r}")
        if self.per_class < 1:
            raise ValueError(f"per_class must be at least 1, got {self.per_class}")
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if self.step_size <= 0:
            raise ValueError(f"step_size must be positive, got {self.step_size}")
        if self.l2_weight < 0:
            raise ValueError(f"l2_weight must be >= 0, got {self.l2_weight}")


# --- core ---
def mi_face(model: nn.Module, classes: torch.Tensor, cfg: Config, gen: torch.Generator) -> torch.Tensor:
    """Invert `model` for each label in `classes` (N,); returns images (N, 8, 8) in [0, 1]."""
    x = 0.01 * torch.rand(len(classes), 8, 8, generator=gen)  # near-black starts, (N, 8, 8)
    x.requires_grad_(True)
    for _ in range(cfg.steps):
        confidence = F.softmax(model(x), dim=1).gather(1, classes[:, None])[:, 0]  # f_y(x), (N,)
        cost = (1 - confidence) + cfg.l2_weight * (x**2).mean((1, 2))  # (N,), one cost per image
        (grad,) = torch.autograd.grad(cost.sum(), x)  # costs are independent: summing keeps per-image grads
        with torch.no_grad():
            norm = grad.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None]  # (N, 1, 1)
            x -= cfg.step_size * grad / norm
            x.clamp_(0, 1)  # project back onto the pixel box
    return x.detach()


# --- end core ---


def run(cfg: Config) -> Result:
    torch.set_num_threads(1)  # tiny models: one thread is faster than two contending ones, and repeatable
    seed_everything(cfg.seed)
    world = digits_world(cfg.seed, target_arch=cfg.target_arch)
    gen = torch.Generator().manual_seed(cfg.seed)
    classes = torch.arange(NUM_CLASSES).repeat_interleave(cfg.per_class)  # (N,) = 0,0,..,1,1,..
    recon = mi_face(world.target, classes, cfg, gen).numpy()
    labels = classes.numpy()

    def judge(images: np.ndarray) -> dict[str, float]:
        return {
            "attack-acc-top1": metrics.attack_acc_top1(world.evaluator, images, labels),
            "attack-acc-top5": metrics.attack_acc_top5(world.evaluator, images, labels),
            "knn-dist": metrics.knn_dist(world.evaluator, images, labels, world.x_private, world.y_private),
        }

    noise = np.random.default_rng(cfg.seed).random(recon.shape).astype(np.float32)
    private_means = np.stack([world.x_private[world.y_private == c].mean(0) for c in range(NUM_CLASSES)])
    return Result(
        metrics=judge(recon),
        baselines={"all-zeros image": judge(np.zeros_like(recon)), "uniform noise": judge(noise)},
        targets=private_means[labels],
        reconstructions=recon,
        extra={
            "target": cfg.target_arch,
            "target test accuracy": accuracy(world.target, world.x_private_test, world.y_private_test),
            "target top-1 on reconstructions": accuracy(world.target, recon, labels),
            "grid": "top row: private class mean (for reference only), bottom row: reconstruction",
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
