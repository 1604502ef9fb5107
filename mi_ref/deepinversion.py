"""DeepInversion: synthesise a training set from a trained network's batch-norm statistics.

A network with batch normalisation stores, in every BN layer $l$, the running mean $\\mu_l$ and
variance $\\sigma^2_l$ of that layer's inputs over its whole training set. DeepInversion optimises a
batch of images $\\hat{x}$ (random noise at first) until the target is confident in chosen labels
*and* the batch's own feature statistics match the stored ones:

$$\\min_{\\hat{x}} \\; \\mathrm{CE}(f(\\hat{x}), y)
  + \\alpha_{bn} \\sum_l \\big( \\lVert \\mu_l(\\hat{x}) - \\mu_l \\rVert_2 + \\lVert \\sigma^2_l(\\hat{x}) - \\sigma^2_l \\rVert_2 \\big)
  + \\alpha_{tv} \\mathrm{TV}(\\hat{x}) + \\alpha_{\\ell_2} \\lVert \\hat{x} \\rVert_2^2$$

with random 1-pixel jitter of the batch at each step. The BN term is what pulls the images towards
the training distribution: without it the result is closer to adversarial noise.

Judged the way the paper judges data-free knowledge transfer: a fresh *student* network is trained
only on the synthesised images, to match the target's (teacher's) softened outputs on them, and is
then tested on real held-out digits. Baseline: the same student recipe on uniform-noise images
(labelled by the same teacher), and on images synthesised without the BN term.

Papers: `yin2020deepinversion` (DeepInversion, CVPR 2020).

How this differs from the papers:

1. Data are 8x8 digits and the teacher a two-layer BN CNN, not ImageNet/CIFAR-10 with ResNets.
2. Jitter is a random roll by at most one pixel; no flips (digits are not mirror-symmetric).
3. "Adaptive DeepInversion" (the competition term that uses a student during synthesis) is left out.
4. One batch of a few hundred images is synthesised, not many batches of thousands; the student
   is trained for a fixed number of epochs on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.gradient_inversion import total_variation
from mi_ref.harness import NUM_CLASSES, Classifier, Result, accuracy, cli, digits_world, seed_everything

PAPERS = ("yin2020deepinversion",)


@dataclass(frozen=True)
class Config:
    """Settings of one DeepInversion run on the digits world (teacher: the BN CNN target)."""

    seed: int = 0
    """Seeds the world (splits, models), the synthesis and the students."""
    per_class: int = 20
    """Synthetic images per class."""
    steps: int = 300
    """Adam steps on the synthetic batch."""
    lr: float = 0.1
    """Adam learning rate on the pixels (optimised as unconstrained logits of [0, 1] pixels)."""
    bn_weight: float = 10.0
    """alpha_bn: weight of the batch-norm statistics term; 0 turns DeepInversion into plain inversion."""
    tv_weight: float = 0.1
    """alpha_tv: weight of the total-variation smoothness prior."""
    l2_weight: float = 0.001
    """alpha_l2: weight of the squared pixel norm (mean over the batch)."""
    student_epochs: int = 150
    """Epochs of knowledge distillation for each student."""
    temperature: float = 4.0
    """Softmax temperature of the distillation loss."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.per_class < 1:
            raise ValueError(f"per_class must be at least 1, got {self.per_class}")
        if self.steps < 0 or self.student_epochs < 1:
            raise ValueError(f"need steps >= 0 and student_epochs >= 1, got {self.steps} and {self.student_epochs}")
        if self.lr <= 0 or self.temperature <= 0:
            raise ValueError(f"lr and temperature must be positive, got {self.lr} and {self.temperature}")
        if min(self.bn_weight, self.tv_weight, self.l2_weight) < 0:
            raise ValueError("bn_weight, tv_weight and l2_weight must be >= 0")


class BNStatsHook:
    """Records, at one BatchNorm2d layer, the distance between the batch's and the stored statistics."""

    def __init__(self, layer: nn.BatchNorm2d) -> None:
        self.layer = layer
        self.loss = torch.tensor(0.0)
        self.handle = layer.register_forward_hook(self.hook)

    def hook(self, module: nn.BatchNorm2d, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        x = inputs[0]  # (B, C, H, W): the layer's input for the synthetic batch
        mean = x.mean((0, 2, 3))  # (C,)
        var = x.var((0, 2, 3), unbiased=False)  # (C,)
        self.loss = (mean - module.running_mean).norm() + (var - module.running_var).norm()


# --- core ---
def deep_inversion(teacher: nn.Module, labels: torch.Tensor, cfg: Config, gen: torch.Generator) -> torch.Tensor:
    """Synthesise images (B, 8, 8) in [0, 1] for `labels` (B,) from the teacher's BN statistics."""
    hooks = [BNStatsHook(m) for m in teacher.modules() if isinstance(m, nn.BatchNorm2d)]
    logit_x = torch.randn(len(labels), 8, 8, generator=gen).requires_grad_(True)  # pixels = sigmoid(logit_x)
    opt = torch.optim.Adam([logit_x], lr=cfg.lr)
    try:
        for _ in range(cfg.steps):
            x = torch.sigmoid(logit_x)
            dx, dy = torch.randint(-1, 2, (2,), generator=gen).tolist()
            out = teacher(torch.roll(x, shifts=(dx, dy), dims=(1, 2)))  # jitter, (B, 10); hooks fire here
            loss = (
                F.cross_entropy(out, labels)
                + cfg.bn_weight * sum(h.loss for h in hooks)
                + cfg.tv_weight * total_variation(x)
                + cfg.l2_weight * (x**2).sum((1, 2)).mean()
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        for h in hooks:
            h.handle.remove()
    return torch.sigmoid(logit_x).detach()


def distil(teacher: nn.Module, images: torch.Tensor, cfg: Config) -> Classifier:
    """Train a fresh MLP student to match the teacher's softened outputs on `images` only."""
    torch.manual_seed(cfg.seed + 1)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    student = Classifier("mlp")
    with torch.no_grad():
        soft = F.softmax(teacher(images) / cfg.temperature, dim=1)  # (B, 10) teacher targets
    opt = torch.optim.Adam(student.parameters(), lr=3e-3)
    for _ in range(cfg.student_epochs):
        for idx in torch.randperm(len(images), generator=gen).split(64):
            log_p = F.log_softmax(student(images[idx]) / cfg.temperature, dim=1)
            loss = F.kl_div(log_p, soft[idx], reduction="batchmean") * cfg.temperature**2
            opt.zero_grad()
            loss.backward()
            opt.step()
    return student.eval()


# --- end core ---


def run(cfg: Config) -> Result:
    torch.set_num_threads(1)  # tiny models: one thread is faster than two contending ones, and repeatable
    seed_everything(cfg.seed)
    world = digits_world(cfg.seed, target_arch="bn-cnn")
    teacher = world.target
    for p in teacher.parameters():
        p.requires_grad_(False)  # only the images are optimised
    gen = torch.Generator().manual_seed(cfg.seed)
    labels = torch.arange(NUM_CLASSES).repeat_interleave(cfg.per_class)  # (B,)
    synthetic = deep_inversion(teacher, labels, cfg, gen)
    without_bn = deep_inversion(teacher, labels, Config(**{**cfg.__dict__, "bn_weight": 0.0}), gen)
    noise = torch.rand(synthetic.shape, generator=gen)

    def student_acc(images: torch.Tensor) -> dict[str, float]:
        student = distil(teacher, images, cfg)
        return {"student-acc": metrics.student_acc(student, world.x_private_test, world.y_private_test)}

    shown = synthetic.view(NUM_CLASSES, cfg.per_class, 8, 8)[:, :2].reshape(-1, 8, 8).numpy()
    return Result(
        metrics=student_acc(synthetic),
        baselines={
            "student on uniform noise": student_acc(noise),
            "student on inversion without BN term": student_acc(without_bn),
        },
        targets=None,
        reconstructions=shown,
        extra={
            "teacher test accuracy": accuracy(teacher, world.x_private_test, world.y_private_test),
            "teacher top-1 on synthetic images": accuracy(teacher, synthetic.numpy(), labels.numpy()),
            "grid": "two synthetic images per class (no targets: the attack recovers a data set, not samples)",
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
