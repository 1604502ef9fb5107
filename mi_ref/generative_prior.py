"""Generative-prior model inversion (GMI): search the latent space of a generator trained on public data.

Gradient descent on raw pixels (MI-Face, `mi_ref.optimisation`) finds images the target likes but
that rarely look like data. GMI's idea is to search only among images a generator $G$ can make,
where $G$ was trained on public data of the same kind (other people's faces; here, other people's
digits). For a target class $y$:

$$\\hat{z}_y = \\arg\\min_z \\; \\underbrace{\\mathrm{CE}(f(G(z)), y)}_{\\text{identity loss}}
  + \\underbrace{\\tfrac{\\lambda}{2} \\lVert z \\rVert_2^2}_{\\text{prior loss}}, \\qquad \\hat{x}_y = G(\\hat{z}_y)$$

The generator carries what "a digit" looks like; the target only has to say which one. Two steps:
draw a pool of latents from the prior $z \\sim \\mathcal{N}(0, I)$ and keep, per class, those whose
images the target is most confident about (a good start, as in PPA); then descend the loss above.
The target is used white-box (its gradients flow back through $G$).

Judged by the evaluation model: attack accuracy, and the KNN distance to the nearest private sample
of the class, compared with what a *real public sample* of that class scores (the ceiling the
generator's data sets). Baseline: images of random latents, without search.

Papers: `zhang2020gmi` (GMI, CVPR 2020). The same search underlies KED-MI, PLG-MI, PPA and LOMMA,
which change the generator, the loss or the selection; they are not implemented here.

How this differs from the papers:

1. The generator is a small variational autoencoder's decoder (seconds to train on a CPU), not a
   WGAN-GP GAN; a GAN on 539 digits trained slowly and unstably in our CPU trials.
2. So the prior loss is the Gaussian $\\frac{\\lambda}{2}\\lVert z \\rVert^2$ rather than the GAN
   discriminator's score $-D(G(z))$.
3. The search starts from the pool latents the target likes best (PPA-style selection), not from
   random latents; GMI runs several random starts and keeps the best instead.
4. Data are 8x8 digits and the target an MLP, not 64x64 CelebA faces and VGG16/ResNet-152;
   the generator sees no private sample and the public split has the same ten classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import (
    NUM_CLASSES,
    DigitsWorld,
    Result,
    cache_dir,
    cached_model,
    cli,
    digits_world,
    one_thread,
    seed_everything,
)

PAPERS = ("zhang2020gmi",)

# The generator's shape and training recipe; part of the cache key (bump GENERATOR_VERSION on change).
GENERATOR_VERSION = 2
LATENT_DIM = 12
HIDDEN = 256
VAE_EPOCHS = 300
VAE_BETA = 0.5


@dataclass(frozen=True)
class Config:
    """Settings of one GMI run on the digits world."""

    seed: int = 0
    """Seeds the world (splits, models), the generator and the latent pool."""
    per_class: int = 5
    """Reconstructions per class."""
    pool: int = 2000
    """Latents drawn from the prior before selection; must be at least per_class."""
    steps: int = 200
    """Adam steps on the latents after selection."""
    lr: float = 0.02
    """Adam learning rate on the latents."""
    prior_weight: float = 0.01
    """lambda: weight of the Gaussian prior loss lambda/2 ||z||^2."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.per_class < 1:
            raise ValueError(f"per_class must be at least 1, got {self.per_class}")
        if self.pool < self.per_class:
            raise ValueError(f"pool ({self.pool}) must be at least per_class ({self.per_class})")
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.prior_weight < 0:
            raise ValueError(f"prior_weight must be >= 0, got {self.prior_weight}")


class Generator(nn.Module):
    """The decoder half of a VAE: latent (N, LATENT_DIM) -> image (N, 8, 8) in (0, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT_DIM, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 64)
        )

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 8, 8)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(z))


def train_generator(x_public: np.ndarray, seed: int) -> Generator:
    """Fit a VAE on the public images (N, 8, 8); return its decoder as the generator.

    Loss per image: Bernoulli reconstruction (pixels in [0, 1]) + beta * KL(q(z|x) || N(0, I))."""
    with one_thread():  # same weights whatever the thread count, so the cache agrees with a fresh run
        return _fit_vae(x_public, seed)


def _fit_vae(x_public: np.ndarray, seed: int) -> Generator:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 2 * LATENT_DIM))
    decoder = Generator()
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=2e-3)
    x = torch.tensor(x_public, dtype=torch.float32)
    for _ in range(VAE_EPOCHS):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            mu, log_var = encoder(x[idx]).chunk(2, dim=1)  # (B, d) each
            z = mu + torch.randn(mu.shape, generator=gen) * (0.5 * log_var).exp()  # reparameterisation
            recon = F.binary_cross_entropy_with_logits(decoder.logits(z), x[idx], reduction="sum") / len(idx)
            kl = 0.5 * (mu**2 + log_var.exp() - 1 - log_var).sum(1).mean()
            opt.zero_grad()
            (recon + VAE_BETA * kl).backward()
            opt.step()
    return decoder.eval()


def public_generator(world: DigitsWorld) -> Generator:
    """The world's generator, trained on its public split only; cached like the world's models."""
    path = cache_dir() / f"v{GENERATOR_VERSION}-generator-vae{LATENT_DIM}-seed{world.seed}.pt"
    return cached_model(path, Generator(), lambda: train_generator(world.x_public, world.seed))


# --- core ---
def select_latents(
    target: nn.Module, generator: Generator, classes: torch.Tensor, pool: int, gen: torch.Generator
) -> torch.Tensor:
    """For each label in `classes` (N,), a prior latent whose image the target rates highest for it."""
    z_pool = torch.randn(pool, LATENT_DIM, generator=gen)  # (P, d) ~ N(0, I)
    with torch.no_grad():
        conf = F.softmax(target(generator(z_pool)), dim=1)  # (P, C)
    chosen = torch.empty(len(classes), LATENT_DIM)
    for c in classes.unique():
        rows = (classes == c).nonzero()[:, 0]  # the reconstructions wanted for class c
        chosen[rows] = z_pool[conf[:, c].topk(len(rows)).indices]  # distinct latents, best first
    return chosen


def gmi_search(
    target: nn.Module, generator: Generator, classes: torch.Tensor, cfg: Config, gen: torch.Generator
) -> torch.Tensor:
    """Latents (N, d) minimising identity loss + prior loss, started from the selected ones."""
    return descend(target, generator, classes, select_latents(target, generator, classes, cfg.pool, gen), cfg)


def descend(
    target: nn.Module, generator: Generator, classes: torch.Tensor, start: torch.Tensor, cfg: Config
) -> torch.Tensor:
    """GMI's search proper: `cfg.steps` Adam steps on identity + prior loss from the latents `start` (N, d).

    Started from prior draws (no selection), this is the attack as GMI published it: one random start
    per reconstruction, accuracy averaged over them."""
    z = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=cfg.lr)
    for _ in range(cfg.steps):
        identity = F.cross_entropy(target(generator(z)), classes, reduction="sum")  # sum over N images
        prior = cfg.prior_weight / 2 * (z**2).sum()
        opt.zero_grad()
        (identity + prior).backward()  # only z is stepped; target and generator stay fixed
        opt.step()
    return z.detach()


# --- end core ---


def run(cfg: Config) -> Result:
    torch.set_num_threads(1)  # tiny models: one thread is faster than two contending ones, and repeatable
    seed_everything(cfg.seed)
    world = digits_world(cfg.seed)
    generator = public_generator(world)
    gen = torch.Generator().manual_seed(cfg.seed)
    classes = torch.arange(NUM_CLASSES).repeat_interleave(cfg.per_class)  # (N,)
    labels = classes.numpy()
    z = gmi_search(world.target, generator, classes, cfg, gen)
    with torch.no_grad():
        recon = generator(z).numpy()
        random_images = generator(torch.randn(len(classes), LATENT_DIM, generator=gen)).numpy()

    def judge(images: np.ndarray, wanted: np.ndarray) -> dict[str, float]:
        return {
            "attack-acc-top1": metrics.attack_acc_top1(world.evaluator, images, wanted),
            "attack-acc-top5": metrics.attack_acc_top5(world.evaluator, images, wanted),
            "knn-dist": metrics.knn_dist(world.evaluator, images, wanted, world.x_private, world.y_private),
        }

    private_means = np.stack([world.x_private[world.y_private == c].mean(0) for c in range(NUM_CLASSES)])
    return Result(
        metrics=judge(recon, labels),
        baselines={
            "random latent, no search": judge(random_images, labels),
            "real public sample of the class": judge(world.x_public, world.y_public),
        },
        targets=private_means[labels],
        reconstructions=recon,
        extra={"grid": "top row: private class mean (for reference only), bottom row: reconstruction"},
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
