"""Training hijacking in split learning: a malicious server steers the client's layers until their
output can be decoded, and a client-side test that notices it.

In split learning the client computes $z = f(x)$ with its own layers $f$ and the server sends back
$\\partial \\ell / \\partial z$, which the client trusts and backpropagates. The feature-space
hijacking attack (FSHA, `pasquini2021fsha`) abuses that trust. The server never trains the task;
it trains three networks of its own:

- a *pilot* encoder $\\tilde f$ and its decoder $\\tilde f^{-1}$, an autoencoder on public data:
  $\\min \\lVert \\tilde f^{-1}(\\tilde f(x_{pub})) - x_{pub} \\rVert^2$;
- a critic $D$ that tells the pilot's codes $\\tilde f(x_{pub})$ from the client's $f(x)$ (a
  Wasserstein critic with gradient penalty);

and it sends the client $\\partial (-D(z)) / \\partial z$ in place of the task gradient. The client's
layers are thereby trained to map private inputs into the pilot's code space, where the server's
decoder reads them: $\\hat x = \\tilde f^{-1}(f(x))$. The server needs no knowledge of $f$'s weights.

The client can test the server (SplitGuard, `erdogan2022splitguard`). Now and then it sends a
*fake* batch whose labels are random, and does not train on the answer. An honest server's
gradient depends on the labels, so a fake batch's gradient points away from the regular ones; a
hijacking server ignores the labels, so it does not. The score here is

$$ S = \\frac{\\overline{d}(\\text{fake}, \\text{previous regular})}{\\overline{d}(\\text{regular}, \\text{previous regular})},
\\qquad d(g, g') = 1 - \\cos(\\bar g, \\bar g'), $$

over the batch-mean gradients $\\bar g$ of the first epochs: $S > 1$ says the labels matter.

With the defaults (seed 0; 8x8 digits; the client holds the private split, the server the public
one; 100 epochs of 11 batches; 64 private digits decoded):

| reconstruction | PSNR (dB) | recognised by an evaluation classifier |
|---|---:|---:|
| FSHA after 100 epochs | 19.3 | 92% |
| FSHA after 2 epochs, when the detector decides | 9.6 | 6% |
| public mean digit | 11.5 | 6% |
| label-only oracle (public mean of the true class) | 14.4 | 100% |

The oracle is recognised by construction (it is handed each digit's class); FSHA recovers the
digits themselves, without the labels and without knowing the client's weights. The detection
score over the first 2 epochs, 5 sessions per kind of server (seeds 0-4): honest 1.08-1.52,
hijacking 0.51-0.90. The natural threshold $S < 1$ (fake labels move the gradient no more than a
new batch does) flags all 5 hijacking sessions and none of the honest ones, while the attack is
still below the public mean digit.

Papers: `pasquini2021fsha` (CCS 2021), `erdogan2022splitguard` (WPES 2022).

How this differs from the papers:

1. Data are the 8x8 digits with small convolutional and dense networks; the papers use MNIST,
   Fashion-MNIST, CelebA and CIFAR-10 with ResNet-style networks.
2. The critic is a two-layer network trained with one step per batch; the paper's attack has
   further variants (e.g. against defenses, and attribute inference) that are not implemented.
3. The detection score is our simplification of SplitGuard's idea (fake batches with random labels
   compared with regular ones by the angle between mean gradients); SplitGuard's own score, which
   also weighs gradient magnitudes, and its parameters are not reproduced. A server that knows the
   test could answer fake batches differently; that adaptive attack is not tried.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, digits_world, one_thread, seed_everything

PAPERS = ("pasquini2021fsha", "erdogan2022splitguard")

SERVERS = ("honest", "hijacking")


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for the data split, every network's initialisation, the batches and the fake labels."""
    epochs: int = 100
    """Epochs over the private split during which the hijacking server trains the client's layers."""
    n_targets: int = 64
    """Private digits decoded and scored at the end."""
    lr: float = 1e-3
    """Adam learning rate of every network."""
    gp_weight: float = 10.0
    """Weight of the critic's gradient penalty (Wasserstein critic)."""
    fake_rate: float = 0.2
    """Detection: probability that a batch is a fake one with random labels."""
    detect_epochs: int = 2
    """Detection: epochs the client watches before deciding."""
    detect_sessions: int = 5
    """Detection: sessions per kind of server (seeds seed, seed+1, ...)."""
    threshold: float = 1.0
    """Detection: a score below this flags the server as hijacking (1: fake labels change nothing)."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name in ("epochs", "detect_epochs", "detect_sessions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 1 <= self.n_targets <= 700:
            raise ValueError(f"n_targets must be between 1 and 700 (the private split's size), got {self.n_targets}")
        for name in ("lr", "threshold"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {value}")
        if not np.isfinite(self.gp_weight) or self.gp_weight < 0:
            raise ValueError(f"gp_weight must be a finite number >= 0, got {self.gp_weight}")
        if not 0 < self.fake_rate < 1:
            raise ValueError(f"fake_rate must be strictly between 0 and 1, got {self.fake_rate}")


def encoder() -> nn.Module:
    """The client's layers f, and (same shape, its own weights) the server's pilot: (B,1,8,8) -> (B,16,4,4)."""
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1))


def decoder() -> nn.Module:
    """The server's decoder of the pilot's codes: (B,16,4,4) -> (B,1,8,8) in [0, 1]."""
    return nn.Sequential(
        nn.Flatten(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8))
    )


def critic() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(256, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1))


# --- core ---
class HonestServer:
    """Trains its head on the task and returns the cross-entropy gradient at the cut."""

    def __init__(self, lr: float) -> None:
        self.head = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(256, 10))
        self.opt = torch.optim.Adam(self.head.parameters(), lr=lr)

    def answer(self, z: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        z = z.detach().requires_grad_(True)
        loss = F.cross_entropy(self.head(z), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return z.grad


class HijackingServer:
    """FSHA: ignores the labels; trains its pilot autoencoder on public data and a critic between the
    pilot's codes and the client's, and returns the gradient that makes the client's codes look
    like the pilot's."""

    def __init__(self, x_public: torch.Tensor, lr: float, gp_weight: float) -> None:
        self.x_public, self.gp_weight = x_public, gp_weight
        self.pilot, self.inverse, self.critic = encoder(), decoder(), critic()
        self.opt_ae = torch.optim.Adam([*self.pilot.parameters(), *self.inverse.parameters()], lr=lr)
        self.opt_critic = torch.optim.Adam(self.critic.parameters(), lr=lr, betas=(0.5, 0.9))

    def answer(self, z: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        del y  # the hijacker does not need the labels: this is what the detector exploits
        x_pub = self.x_public[torch.randint(len(self.x_public), (len(z),), generator=gen)]
        ae_loss = F.mse_loss(self.inverse(self.pilot(x_pub)), x_pub)
        self.opt_ae.zero_grad()
        ae_loss.backward()
        self.opt_ae.step()

        real, fake = self.pilot(x_pub).detach(), z.detach()
        mix_weight = torch.rand(len(z), 1, 1, 1, generator=gen)
        mix = (mix_weight * real + (1 - mix_weight) * fake).requires_grad_(True)
        slope = torch.autograd.grad(self.critic(mix).sum(), mix, create_graph=True)[0].flatten(1).norm(dim=1)
        critic_loss = self.critic(fake).mean() - self.critic(real).mean() + self.gp_weight * ((slope - 1) ** 2).mean()
        self.opt_critic.zero_grad()
        critic_loss.backward()
        self.opt_critic.step()

        z = z.detach().requires_grad_(True)
        return torch.autograd.grad(-self.critic(z).mean(), z)[0]

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.inverse(z)


def train_client(
    client: nn.Module,
    server: HonestServer | HijackingServer,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float,
    gen: torch.Generator,
    fake_rate: float = 0.0,
) -> tuple[list[float], list[float]]:
    """Split learning from the client's side: it sends f(x) and labels, and backpropagates whatever
    gradient comes back. With fake_rate > 0 some batches carry random labels and are only probed.
    Returns the gradient distances of fake and of regular batches to the previous regular batch."""
    opt = torch.optim.Adam(client.parameters(), lr=lr)
    previous, fake_dist, regular_dist = None, [], []
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            fake = fake_rate > 0 and float(torch.rand(1, generator=gen)) < fake_rate
            labels = torch.randint(10, (len(idx),), generator=gen) if fake else y[idx]
            z = client(x[idx])
            grad = server.answer(z, labels, gen)
            mean_grad = grad.flatten(1).mean(0)
            if previous is not None:
                dist = 1 - float(F.cosine_similarity(mean_grad, previous, dim=0))
                (fake_dist if fake else regular_dist).append(dist)
            if fake:
                continue  # a probe: not trained on, and not the reference for the next batch
            previous = mean_grad
            opt.zero_grad()
            z.backward(grad)
            opt.step()
    return fake_dist, regular_dist


def label_sensitivity(fake_dist: list[float], regular_dist: list[float]) -> float:
    """The detection score S: > 1 when fake labels change the server's gradient (an honest server)."""
    if not fake_dist or not regular_dist:
        return float("nan")
    return float(np.mean(fake_dist) / np.mean(regular_dist))


# --- end core ---


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    world = digits_world(cfg.seed)
    x = torch.tensor(world.x_private)[:, None]
    y = torch.tensor(world.y_private)
    x_public = torch.tensor(world.x_public)[:, None]
    targets = world.x_private[: cfg.n_targets]
    labels = world.y_private[: cfg.n_targets]

    def decode_now(client: nn.Module, server: HijackingServer) -> np.ndarray:
        with torch.no_grad():
            return server.decode(client(x[: cfg.n_targets]))[:, 0].numpy()

    # The attack: a full hijacked training run, decoded at the detector's horizon and at the end.
    torch.manual_seed(cfg.seed)
    client, server = encoder(), HijackingServer(x_public, cfg.lr, cfg.gp_weight)
    gen = torch.Generator().manual_seed(cfg.seed)
    with one_thread():
        early = min(cfg.detect_epochs, cfg.epochs)
        train_client(client, server, x, y, early, cfg.lr, gen)
        at_detection = decode_now(client, server)
        train_client(client, server, x, y, cfg.epochs - early, cfg.lr, gen)
    recon = decode_now(client, server)

    def judged(images: np.ndarray) -> dict[str, float]:
        pred = world.evaluator(torch.tensor(images, dtype=torch.float32)).argmax(1).numpy()
        return {"psnr": metrics.psnr(targets, images), "attack-acc-top1": float((pred == labels).mean())}

    with torch.no_grad():
        attack = judged(recon)
        public_mean = np.broadcast_to(world.x_public.mean(0), targets.shape).copy()
        oracle = world.public_class_means()[labels]
        baselines = {
            "public mean digit": judged(public_mean),
            "label-only oracle (public class mean)": judged(oracle),
            f"FSHA after {early} epochs (when the detector decides)": judged(at_detection),
        }

    # The detector: the client's score against honest and hijacking servers, several sessions each.
    scores: dict[str, list[float]] = {kind: [] for kind in SERVERS}
    for kind in SERVERS:
        for session in range(cfg.detect_sessions):
            seed = cfg.seed + session
            torch.manual_seed(seed)
            probe_client = encoder()
            probe_server = (
                HonestServer(cfg.lr) if kind == "honest" else HijackingServer(x_public, cfg.lr, cfg.gp_weight)
            )
            with one_thread():
                dists = train_client(
                    probe_client, probe_server, x, y, cfg.detect_epochs, cfg.lr,
                    torch.Generator().manual_seed(seed), cfg.fake_rate,
                )  # fmt: skip
            scores[kind].append(label_sensitivity(*dists))
    flagged = {kind: float(np.mean([s < cfg.threshold for s in scores[kind]])) for kind in SERVERS}
    return Result(
        metrics=attack,
        baselines=baselines,
        targets=targets,
        reconstructions=recon,
        extra={
            "detection score per session (honest)": scores["honest"],
            "detection score per session (hijacking)": scores["hijacking"],
            "detection auc (hijacking scores lower)": metrics.auc(
                [-s for s in scores["honest"] + scores["hijacking"]],
                [0] * len(scores["honest"]) + [1] * len(scores["hijacking"]),
            ),
            "flagged at threshold (honest: false alarms)": flagged["honest"],
            "flagged at threshold (hijacking: detections)": flagged["hijacking"],
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
