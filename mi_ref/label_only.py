"""Label-only model inversion (BREP-MI): walk away from the class boundary in a generator's latent space.

When the target answers with its top-1 label only, there is no confidence to climb and no gradient.
BREP-MI's observation: the inside of a class region, far from every decision boundary, is where the
class's most typical images lie. So, in the latent space of a generator $G$ trained on public data
(the GMI generator of `mi_ref.generative_prior`):

1. draw prior latents until the target labels one $G(z_0)$ as class $y$ (a point inside the region);
2. around the current $z$, probe $N$ points on a sphere of radius $R$, $z + R u_n$ with $u_n$ unit
   random directions, and ask the target for their labels. Points labelled anything but $y$ repel:

   $$M(z) = \\frac{1}{N} \\sum_{n=1}^{N} \\Phi_y(z + R u_n)\\, u_n, \\qquad
     \\Phi_y(z') = \\begin{cases} 0 & \\text{label}(G(z')) = y \\\\ -1 & \\text{otherwise} \\end{cases}$$

   and $z \\leftarrow z + \\alpha R\\, M(z) / \\lVert M(z) \\rVert$, kept only if the new point is still
   labelled $y$;
3. when every probe on the sphere is labelled $y$, $z$ is at least $R$ from the boundary: grow the
   sphere, $R \\leftarrow \\gamma R$, and continue until $R$ reaches $R_{max}$ or the query budget ends.

Every query goes through a `LabelOracle` that returns integer labels only, so the attack cannot read
a score even by accident; the test shows the result is unchanged when the target's scores are
changed without changing its argmax.

Papers: `kahla2022brepmi` (BREP-MI, CVPR 2022).

How this differs from the papers:

1. The generator is the small VAE decoder of `mi_ref.generative_prior` (8x8 digits), not a GAN
   trained on public faces; the latent space is 12-dimensional rather than 100.
2. All classes and all reconstructions per class are walked in one batch; each keeps its own radius.
3. The step is a fixed fraction of the current radius; the paper tunes a step size and a radius
   schedule per data set, and stops when the radius reaches a threshold it sets per target.
4. The query count is reported rather than budgeted per class; the paper reports queries as a cost.
5. The exact form of the estimator here (probes inside the class count 0, outside -1; a step is
   kept only if it lands inside the class) is our reading of the paper's boundary-repulsion idea,
   written without its code; details such as the probe count and radius schedule differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mi_ref import metrics
from mi_ref.generative_prior import LATENT_DIM, Generator, public_generator
from mi_ref.harness import NUM_CLASSES, Result, cli, digits_world, seed_everything

PAPERS = ("kahla2022brepmi",)


@dataclass(frozen=True)
class Config:
    """Settings of one BREP-MI run on the digits world."""

    seed: int = 0
    """Seeds the world (splits, models), the generator and the random probes."""
    per_class: int = 5
    """Reconstructions per class."""
    probes: int = 32
    """N: points probed on the sphere per step."""
    radius: float = 0.5
    """R at the start (latents are N(0, I) in 12 dimensions, typical norm about 3.5)."""
    max_radius: float = 4.0
    """Stop growing the sphere here."""
    growth: float = 1.3
    """gamma: factor by which the radius grows when no probe leaves the class."""
    step: float = 0.5
    """alpha: a step moves z by alpha * R in the repulsion direction."""
    iterations: int = 60
    """Repulsion steps at most."""
    init_tries: int = 4000
    """Prior latents drawn to find starting points the target labels as each class."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.per_class < 1:
            raise ValueError(f"per_class must be at least 1, got {self.per_class}")
        if self.probes < 1:
            raise ValueError(f"probes must be at least 1, got {self.probes}")
        if not 0 < self.radius <= self.max_radius:
            raise ValueError(f"need 0 < radius <= max_radius, got radius={self.radius}, max_radius={self.max_radius}")
        if self.growth <= 1:
            raise ValueError(f"growth must be above 1, got {self.growth}")
        if self.step <= 0:
            raise ValueError(f"step must be positive, got {self.step}")
        if self.iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {self.iterations}")
        if self.init_tries < NUM_CLASSES * self.per_class:
            raise ValueError(f"init_tries must be at least {NUM_CLASSES * self.per_class} (10 x per_class)")


class LabelOracle:
    """The target behind a label-only API: images (N, 8, 8) in, integer labels (N,) out; counts queries."""

    def __init__(self, model: nn.Module) -> None:
        self._model = model
        self.queries = 0

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self.queries += len(images)
        with torch.no_grad():
            return self._model(images).argmax(1)  # only the argmax leaves this method


# --- core ---
def initial_latents(
    oracle: LabelOracle, generator: Generator, classes: torch.Tensor, tries: int, gen: torch.Generator
) -> torch.Tensor:
    """Step 1: for each wanted label, a prior latent whose image the oracle puts in that class."""
    z_pool = torch.randn(tries, LATENT_DIM, generator=gen)  # (P, d)
    with torch.no_grad():
        labels = oracle(generator(z_pool))  # (P,)
    z0 = torch.empty(len(classes), LATENT_DIM)
    for c in classes.unique():
        rows = (classes == c).nonzero()[:, 0]
        found = (labels == c).nonzero()[:, 0]
        if len(found) < len(rows):
            raise RuntimeError(f"only {len(found)} of {tries} prior samples are labelled {int(c)}; raise init_tries")
        z0[rows] = z_pool[found[: len(rows)]]
    return z0


def brep_mi(
    oracle: LabelOracle, generator: Generator, classes: torch.Tensor, cfg: Config, gen: torch.Generator
) -> torch.Tensor:
    """Steps 2-3: boundary repulsion with growing spheres; returns latents (N, d)."""
    z = initial_latents(oracle, generator, classes, cfg.init_tries, gen)
    n, d = z.shape
    radius = torch.full((n,), cfg.radius)  # each reconstruction keeps its own sphere
    for _ in range(cfg.iterations):
        active = radius < cfg.max_radius
        if not active.any():
            break
        idx = active.nonzero()[:, 0]
        u = torch.randn(len(idx), cfg.probes, d, generator=gen)
        u = u / u.norm(dim=2, keepdim=True)  # (A, N, d) unit directions
        probes = z[idx, None] + radius[idx, None, None] * u  # (A, N, d) points on the spheres
        with torch.no_grad():
            outside = oracle(generator(probes.reshape(-1, d))).view(len(idx), cfg.probes) != classes[idx, None]
        phi = -outside.float()  # (A, N): -1 for probes in another class, 0 inside
        m = (phi[..., None] * u).mean(1)  # (A, d): points away from the boundary
        all_inside = ~outside.any(1)
        radius[idx[all_inside]] *= cfg.growth  # nothing left the class within R: widen the sphere
        move = idx[~all_inside]
        if len(move):
            direction = m[~all_inside] / m[~all_inside].norm(dim=1, keepdim=True)
            candidate = z[move] + cfg.step * radius[move, None] * direction
            with torch.no_grad():
                keep = oracle(generator(candidate)) == classes[move]  # never step out of the class
            z[move[keep]] = candidate[keep]
    return z


# --- end core ---


def run(cfg: Config) -> Result:
    torch.set_num_threads(1)  # tiny models: one thread is faster than two contending ones, and repeatable
    seed_everything(cfg.seed)
    world = digits_world(cfg.seed)
    generator = public_generator(world)
    oracle = LabelOracle(world.target)
    gen = torch.Generator().manual_seed(cfg.seed)
    classes = torch.arange(NUM_CLASSES).repeat_interleave(cfg.per_class)  # (N,)
    labels = classes.numpy()
    z_start = initial_latents(
        LabelOracle(world.target), generator, classes, cfg.init_tries, torch.Generator().manual_seed(cfg.seed)
    )  # the same starts brep_mi draws
    z = brep_mi(oracle, generator, classes, cfg, gen)
    with torch.no_grad():
        recon = generator(z).numpy()
        start = generator(z_start).numpy()
        random_images = generator(torch.randn(len(classes), LATENT_DIM, generator=gen)).numpy()

    def judge(images: np.ndarray) -> dict[str, float]:
        return {
            "attack-acc-top1": metrics.attack_acc_top1(world.evaluator, images, labels),
            "attack-acc-top5": metrics.attack_acc_top5(world.evaluator, images, labels),
            "knn-dist": metrics.knn_dist(world.evaluator, images, labels, world.x_private, world.y_private),
        }

    private_means = np.stack([world.x_private[world.y_private == c].mean(0) for c in range(NUM_CLASSES)])
    return Result(
        metrics=judge(recon),
        baselines={"starting latents (labelled y, no repulsion)": judge(start), "random latent": judge(random_images)},
        targets=private_means[labels],
        reconstructions=recon,
        extra={
            "label queries": oracle.queries,
            "grid": "top row: private class mean (for reference only), bottom row: reconstruction",
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
