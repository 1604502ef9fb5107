"""Analytic gradient inversion: a fully connected layer's input read off its gradients.

For a linear layer $z = W x + b$ seen by one example, the chain rule gives
$\\partial \\ell / \\partial W = \\delta\\, x^\\top$ and $\\partial \\ell / \\partial b = \\delta$ with
$\\delta = \\partial \\ell / \\partial z$. So any row $k$ with $\\delta_k \\neq 0$ returns the input
exactly, with no optimisation:

$$\\hat x = \\frac{(\\partial \\ell / \\partial W)_{k,:}}{(\\partial \\ell / \\partial b)_k}$$

This is the step that R-GAP (`zhu2021rgap`) solves recursively layer by layer, that APRIL
(`lu2022april`) applies to a vision transformer's position embedding, and that "Robbing the Fed"
(`fowl2022robbing`) turns into an attack on large batches.

**Batching.** A batch of $B$ examples sends the average, so row $k$ gives
$\\sum_i \\delta_{ik} x_i / \\sum_i \\delta_{ik}$, a weighted mix of the batch. A row still returns one
example exactly when only that example activates it (after a ReLU, $\\delta_{ik} = 0$ for inactive
units), which happens less and less often as $B$ grows. Robbing the Fed makes it happen on purpose:
a malicious server sends an *imprint* layer whose rows measure brightness $m(x) = \\bar x$ against
increasing thresholds $c_1 < \\dots < c_K$, with identical downstream weights so that every active
row of example $i$ receives the same $\\delta_i$. Then the difference of two neighbouring rows
contains only the examples whose brightness falls in $[c_k, c_{k+1})$:

$$\\hat x_k = \\frac{\\nabla W_k - \\nabla W_{k+1}}{\\nabla b_k - \\nabla b_{k+1}}$$

which is exact whenever a bin holds a single example.

How this differs from the papers:

1. Only the fully connected core is implemented: no recursion through convolutions (R-GAP), no
   transformer (APRIL), and the imprint layer is followed by a single linear classifier rather than
   being inserted in front of a full network (Robbing the Fed).
2. Bins are brightness quantiles of the attacker's public digits, as in Robbing the Fed, but there is
   no secure aggregation or multi-client setting.
3. Recovery is scored per target by the best candidate (the attacker does not know which candidate
   is which example); candidates are not deduplicated or ranked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, digits_split, seed_everything

PAPERS = ("zhu2021rgap", "lu2022april", "fowl2022robbing")


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for the batches and the honest model's initialisation."""
    max_batch: int = 64
    """Largest batch of the batching study, which runs batch sizes 1, 2, 4, ... up to it; the headline PSNR is batch 1's."""
    width: int = 256
    """Rows of the honest first layer (Linear 64 -> width, then ReLU)."""
    bins: int = 256
    """Rows of the malicious imprint layer (brightness thresholds)."""
    recovered_db: float = 40.0
    """A target counts as recovered when some candidate reaches this PSNR (dB)."""
    trials: int = 3
    """Random batches per batch size; figures are averaged over them."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if not 1 <= self.max_batch <= 700:
            raise ValueError(f"max_batch must be between 1 and 700 (the private split's size), got {self.max_batch}")
        if self.width < 1 or self.bins < 2:
            raise ValueError(f"width must be >= 1 and bins >= 2, got width={self.width}, bins={self.bins}")
        if self.trials < 1:
            raise ValueError(f"trials must be at least 1, got {self.trials}")
        if self.recovered_db <= 0:
            # PSNR of images in [0, 1] is never below 0 dB, so such a threshold counts every target.
            raise ValueError(f"recovered_db must be > 0 dB, got {self.recovered_db}")


# --- core ---
def rows_to_inputs(grad_w: torch.Tensor, grad_b: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Closed form: x_hat_k = dW[k, :] / db[k] for every row with a non-zero bias gradient.

    grad_w: (rows, inputs), grad_b: (rows,) -> (candidates, inputs).
    """
    keep = grad_b.abs() > eps
    return grad_w[keep] / grad_b[keep, None]


def imprint_layer(public: torch.Tensor, bins: int) -> nn.Linear:
    """Robbing the Fed's malicious layer: row k computes mean(x) - c_k, c_k = brightness quantiles."""
    layer = nn.Linear(public.shape[1], bins)
    brightness = public.mean(dim=1)  # (N,)
    cuts = torch.quantile(brightness, torch.linspace(0, 1, bins + 2)[1:-1])  # (bins,) increasing
    with torch.no_grad():
        layer.weight.fill_(1.0 / public.shape[1])
        layer.bias.copy_(-cuts)
    return layer


def imprint_recover(grad_w: torch.Tensor, grad_b: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Difference neighbouring rows to isolate one brightness bin each; the last row stands alone."""
    dw = torch.cat([grad_w[:-1] - grad_w[1:], grad_w[-1:]])  # (bins, inputs)
    db = torch.cat([grad_b[:-1] - grad_b[1:], grad_b[-1:]])  # (bins,)
    return rows_to_inputs(dw, db, eps)


# --- end core ---


def first_layer_grads(layer: nn.Linear, head: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """The shared update of the first layer for a batch: mean cross-entropy of head(relu(layer(x)))."""
    loss = F.cross_entropy(head(torch.relu(layer(x))), y)
    gw, gb = torch.autograd.grad(loss, [layer.weight, layer.bias])
    return gw.double(), gb.double()  # float64 for the division: tiny bias gradients


def best_psnr(targets: torch.Tensor, candidates: torch.Tensor) -> list[float]:
    """For each target (B, 64), the PSNR of its closest candidate (C, 64) after clipping to [0, 1]."""
    if len(candidates) == 0:
        return [0.0] * len(targets)
    cand = candidates.clamp(0, 1).float()
    out = []
    for t in targets:
        mse = ((cand - t) ** 2).mean(dim=1)
        out.append(metrics.psnr(t.numpy(), cand[int(torch.argmin(mse))].numpy()))
    return out


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    torch.set_num_threads(1)
    split = digits_split(cfg.seed)
    private_x = torch.from_numpy(split["private"][0]).reshape(-1, 64)  # (N, 64): the clients' digits
    private_y = torch.from_numpy(split["private"][1])
    public_x = torch.from_numpy(split["public"][0]).reshape(-1, 64)  # the malicious server's own digits
    gen = torch.Generator().manual_seed(cfg.seed)
    batch_sizes = [2**k for k in range(cfg.max_batch.bit_length()) if 2**k < cfg.max_batch] + [cfg.max_batch]

    honest_first = nn.Linear(64, cfg.width)
    honest_head = nn.Linear(cfg.width, 10)
    malicious_first = imprint_layer(public_x, cfg.bins)
    # Identical columns: every active imprint row of example i gets the same delta_i.
    malicious_head = nn.Linear(cfg.bins, 10)
    with torch.no_grad():
        malicious_head.weight.copy_(torch.randn(10, 1, generator=gen).expand(10, cfg.bins))

    study: dict[int, dict[str, float]] = {}
    batch1_targets, batch1_recons = [], []
    for b in batch_sizes:
        honest_hit, imprint_hit, honest_db = [], [], []
        for _ in range(cfg.trials):
            idx = torch.randperm(len(private_x), generator=gen)[:b]
            x, y = private_x[idx], private_y[idx]
            cand = rows_to_inputs(*first_layer_grads(honest_first, honest_head, x, y))
            h = best_psnr(x, cand)
            m = best_psnr(x, imprint_recover(*first_layer_grads(malicious_first, malicious_head, x, y)))
            honest_hit += [p >= cfg.recovered_db for p in h]
            imprint_hit += [p >= cfg.recovered_db for p in m]
            honest_db += h
            if b == 1:
                batch1_targets.append(x[0].reshape(8, 8).numpy())
                best = cand[int(torch.argmin(((cand.float() - x[0]) ** 2).mean(dim=1)))]
                batch1_recons.append(best.clamp(0, 1).float().reshape(8, 8).numpy())
        study[b] = {
            "honest_recovered_frac": float(np.mean(honest_hit)),
            "honest_best_psnr_mean": float(np.mean(honest_db)),
            "imprint_recovered_frac": float(np.mean(imprint_hit)),
        }

    mean_img = public_x.mean(dim=0).reshape(8, 8).numpy()
    metrics_out = {}
    baselines = {}
    if batch1_targets:
        metrics_out["psnr"] = float(np.mean([metrics.psnr(t, r) for t, r in zip(batch1_targets, batch1_recons)]))
        baselines["public mean digit"] = {"psnr": float(np.mean([metrics.psnr(t, mean_img) for t in batch1_targets]))}
    return Result(
        metrics=metrics_out,
        baselines=baselines,
        targets=np.stack(batch1_targets) if batch1_targets else None,
        reconstructions=np.stack(batch1_recons) if batch1_recons else None,
        extra={"batch_study": {str(b): v for b, v in study.items()}, "recovered_db": cfg.recovered_db},
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
