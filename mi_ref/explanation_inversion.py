"""Explanation-based inversion: the saliency map a model returns with its prediction gives the input away.

An explainable-AI service answers a query $x$ with the prediction $f(x)$ *and* an explanation
$e(x)$ of it, a map with one value per input pixel. Two common kinds, for the predicted class $c$:

- *gradient* (saliency): $e(x) = \\partial f_c(x) / \\partial x$, which for a ReLU network is fixed
  by which hidden units $x$ switches on, a fingerprint of $x$;
- *gradient x input*: $e(x) = x \\odot \\partial f_c(x) / \\partial x$, the input itself, reweighted.

The attack (`zhao2021xai`) is the training-based decoder of `mi_ref.training_based` given the
explanation as extra input: query the service on the attacker's own public images, fit
$g: (\\phi(f(x)), e(x)) \\mapsto x$, then invert each private input from its one answer. The attacker
may query any image, so it also queries its public images shifted by one pixel each way (5 times
the training pairs).

Baselines on the same 200 private inputs: the same decoder from the predictions alone
(`yang2019adversarial`'s attack, what the service leaks without explanations) and the label-only
oracle (the public mean image of the true class). The defense (the goal of `jeong2022gnime`):
release the explanation with Gaussian noise of standard deviation `explanation_noise` times the
explanations' own spread, fresh for every answer, against an attacker who trains on noised
explanations too.

With the defaults (seed 0), PSNR in dB on the private inputs:

- label-only oracle 14.1; predictions only 15.3;
- predictions + gradient 16.4; predictions + gradient x input 20.2;
- gradient x input noised at 1x its spread, against an attacker who collects 4 freshly noised
  answers per query image: 16.2. Most of what the explanation added (20.2 against 15.3) is gone,
  not all of it, and the released maps keep a cosine similarity of only 0.66 to the true ones. At
  2x the noise the attack falls to 14.7, below the predictions alone (so an attacker would use
  those), and the similarity to 0.41: the privacy is paid for with the explanation's usefulness.

How this differs from the papers:

1. Data are 8x8 digits and the target the world's MLP; Zhao et al. use face and CelebA-style image
   data with CNN targets, and compare more explanation types (e.g. Grad-CAM, LRP).
2. The decoder is an MLP on the flattened explanation; Zhao et al. design transposed-CNN inversion
   networks that exploit the explanation's spatial layout, and also attack models that give no
   explanation through a surrogate explainer, which is left out.
3. GNIME learns its noise with a generator in a minimax game against an inversion network, to
   keep explanations useful; here the noise is plain Gaussian, the simplest such defense.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mi_ref import metrics
from mi_ref.harness import Result, cli, digits_world, one_thread, seed_everything
from mi_ref.training_based import features, fit_decoder

PAPERS = ("zhao2021xai",)

EXPLANATIONS = ("gradient", "gradient-x-input")


@dataclass(frozen=True)
class Config:
    """Settings of one explanation-based inversion run on the digits world."""

    seed: int = 0
    """Seeds the world (splits, models), the decoders' training and the defense's noise."""
    explanation: str = "gradient-x-input"
    """What the service returns with each prediction: "gradient" or "gradient-x-input"."""
    n_targets: int = 200
    """Private training samples to reconstruct (at most the private split's size, 719)."""
    epochs: int = 100
    """Passes of decoder training over the attacker's (shifted) public images."""
    hidden: int = 256
    """Width of the decoder's two hidden layers."""
    lr: float = 1e-3
    """Adam learning rate of the decoder."""
    shifts: bool = True
    """Also query the public images shifted by one pixel up, down, left and right (5x the pairs)."""
    explanation_noise: float = 1.0
    """Defense: Gaussian noise on released explanations, in units of their standard deviation; 0 skips it."""
    noise_queries: int = 4
    """Under the defense, how many (freshly noised) answers the attacker collects per query image."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        if self.explanation not in EXPLANATIONS:
            raise ValueError(f"explanation must be one of {', '.join(EXPLANATIONS)}, got {self.explanation!r}")
        if not 1 <= self.n_targets <= 719:
            raise ValueError(f"n_targets must be between 1 and 719 (the private split's size), got {self.n_targets}")
        for name in ("epochs", "hidden", "noise_queries"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {self.lr}")
        if not math.isfinite(self.explanation_noise) or self.explanation_noise < 0:
            raise ValueError(f"explanation_noise must be a finite number >= 0, got {self.explanation_noise}")


# --- core ---
def explain(model: nn.Module, images: np.ndarray, kind: str) -> tuple[np.ndarray, torch.Tensor]:
    """What the service returns for each image: softmax confidences (N, 10) and the explanation of the
    predicted class, flattened (N, 64)."""
    x = torch.tensor(images, dtype=torch.float32, requires_grad=True)
    logits = model(x)
    top = logits.argmax(1, keepdim=True)
    (grad,) = torch.autograd.grad(logits.gather(1, top).sum(), x)
    expl = grad if kind == "gradient" else grad * x
    return torch.softmax(logits, 1).detach().numpy(), expl.detach().flatten(1)


def shifted(images: np.ndarray) -> np.ndarray:
    """The images and their one-pixel shifts up, down, left and right (wrapping round): 5N images."""
    moves = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]
    return np.concatenate([np.roll(images, (dy, dx), axis=(1, 2)) for dy, dx in moves])


def decoder_inputs(confidences: np.ndarray, explanations: torch.Tensor | None, scale: float) -> torch.Tensor:
    """phi(f(x)) alone, or beside the explanation divided by `scale` (its spread on the public queries)."""
    phi = features(confidences)
    return phi if explanations is None else torch.cat([phi, explanations / scale], dim=1)


def decode(decoder: nn.Module, inputs: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return torch.sigmoid(decoder(inputs)).view(-1, 8, 8).numpy()


# --- end core ---


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    world = digits_world(cfg.seed)
    targets, labels = world.x_private[: cfg.n_targets], world.y_private[: cfg.n_targets]
    queries = shifted(world.x_public) if cfg.shifts else world.x_public
    pixels = torch.tensor(queries, dtype=torch.float32).flatten(1)
    noise_gen = torch.Generator().manual_seed(cfg.seed)

    released: dict[str, torch.Tensor] = {}  # the noised explanations of the targets, kept for the fidelity figure

    def attack(kind: str | None, noise: float = 0.0) -> np.ndarray:
        """Train a decoder on the attacker's queries and invert the private inputs; kind None = predictions only."""
        conf_q, expl_q = explain(world.target, queries, kind or "gradient")
        conf_t, expl_t = explain(world.target, targets, kind or "gradient")
        scale = float(expl_q.std())
        train_pixels, epochs = pixels, cfg.epochs
        if kind is None:
            expl_q = expl_t = None
        elif noise > 0:
            # The service noises every explanation it releases, afresh for each answer. The attacker asks
            # about each of its images `noise_queries` times, so its decoder learns to see through the
            # noise instead of memorising one draw; the epochs shrink so the training steps stay the same.
            k = cfg.noise_queries
            conf_q, expl_q = np.tile(conf_q, (k, 1)), expl_q.repeat(k, 1)
            expl_q = expl_q + noise * scale * torch.randn(expl_q.shape, generator=noise_gen)
            expl_t = expl_t + noise * scale * torch.randn(expl_t.shape, generator=noise_gen)
            released[kind] = expl_t
            train_pixels, epochs = pixels.repeat(k, 1), max(1, cfg.epochs // k)
        with one_thread():
            decoder = fit_decoder(
                decoder_inputs(conf_q, expl_q, scale), train_pixels, cfg.hidden, epochs, cfg.lr, cfg.seed
            )
        return decode(decoder, decoder_inputs(conf_t, expl_t, scale))

    def judge(images: np.ndarray) -> dict[str, float]:
        return {
            "psnr": metrics.psnr(targets, images),
            "ssim": metrics.ssim(targets, images),
            "mse": metrics.mse(targets, images),
            "attack-acc-top1": metrics.attack_acc_top1(world.evaluator, images, labels),
        }

    recon = attack(cfg.explanation)
    other = next(k for k in EXPLANATIONS if k != cfg.explanation)
    baselines = {
        "predictions only (no explanation)": judge(attack(None)),
        "label-only oracle (public class mean)": judge(world.public_class_means()[labels]),
        f"with the {other} explanation instead": judge(attack(other)),
    }
    extra = {"grid": f"top row: private input, bottom row: reconstruction from prediction + {cfg.explanation}"}
    if cfg.explanation_noise > 0:
        baselines[f"defense: explanation noised ({cfg.explanation_noise:g}x its spread)"] = judge(
            attack(cfg.explanation, cfg.explanation_noise)
        )
        # What the defense costs the explanation's users: how close the released maps stay to the true ones.
        _, clean = explain(world.target, targets, cfg.explanation)
        extra["noised explanation's cosine similarity to the true one"] = float(
            torch.nn.functional.cosine_similarity(clean, released[cfg.explanation], dim=1).mean()
        )
    return Result(
        metrics=judge(recon), baselines=baselines, targets=targets[:20], reconstructions=recon[:20], extra=extra
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
