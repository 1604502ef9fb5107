"""Secure aggregation by pairwise additive masks: the server learns only the sum of the updates.

In Bonawitz et al.'s protocol (`bonawitz2017secagg`) every pair of clients $i < j$ agrees on a
secret seed $s_{ij}$ (by key agreement) and expands it into a mask $m_{ij} = \\mathrm{PRG}(s_{ij})$
of the update's shape. Client $i$ sends

$$y_i = g_i + \\sum_{j > i} m_{ij} - \\sum_{j < i} m_{ji}$$

Every mask is added by one client and subtracted by another, so $\\sum_i y_i = \\sum_i g_i$
exactly, while each $y_i$ alone looks like noise. What the server can still attack is the **sum**:
with $K$ clients each holding one example, $\\sum_i g_i = K \\cdot \\nabla \\frac1K \\sum_i \\ell(x_i, y_i)$
is the gradient of a batch of $K$, so gradient inversion (`mi_ref.gradient_inversion`'s DLG, given
the labels) becomes batch inversion, which gets harder as $K$ grows but is not impossible.

What we measure (pinned by `tests/test_mi_ref_secure_aggregation.py`): one masked update gives DLG
nothing (about 4 dB, below the mean digit), and the sum of up to eight one-digit clients is still
inverted almost exactly (above 90 dB): the masks hide who sent what, not what the batch contains.

How this differs from the paper:

1. Masks are real-valued Gaussian vectors from seeded torch generators in float64, not integers
   mod $2^{b}$ from an AES PRG; the seeds are drawn by the simulation, not agreed by Diffie-Hellman.
2. No dropouts, so the secret sharing of seeds (the protocol's second half) is not needed and not
   implemented; no self-masks.
3. Each client holds one 8x8 digit with a distinct label; the model is DLG's sigmoid MLP at random
   initialisation, and the attacker knows the labels (the strongest attacker).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mi_ref import metrics
from mi_ref.gradient_defenses import Grads
from mi_ref.gradient_inversion import dlg, param_gradients, sigmoid_mlp
from mi_ref.harness import Result, cli, digits_split, seed_everything

PAPERS = ("bonawitz2017secagg",)


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for the clients' digits, the pairwise seeds, the model and the dummy inputs."""
    clients: str = "1,2,4,8"
    """Numbers of clients K whose summed update is attacked (comma-separated, 1..10: distinct labels)."""
    mask_scale: float = 10.0
    """Standard deviation of each pairwise mask entry."""
    dlg_rounds: int = 2
    """L-BFGS rounds (up to 200 iterations each) of every DLG attack."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        ks = parse_clients(self.clients)
        if max(ks) > 10:
            raise ValueError(f"clients: at most 10 clients (each holds a digit of a distinct label), got {max(ks)}")
        if self.mask_scale <= 0:
            raise ValueError(f"mask_scale must be > 0, got {self.mask_scale}")
        if self.dlg_rounds < 1:
            raise ValueError(f"dlg_rounds must be at least 1, got {self.dlg_rounds}")


def parse_clients(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"clients must be comma-separated integers, got {text!r}") from None
    if not ks or min(ks) < 1:
        raise ValueError(f"clients must list positive client counts, got {text!r}")
    return ks


# --- core ---
def pairwise_masked(updates: list[Grads], seeds: dict[tuple[int, int], int], scale: float) -> list[Grads]:
    """y_i = g_i + sum_{j>i} PRG(s_ij) - sum_{j<i} PRG(s_ji), in float64 so the masks cancel exactly."""
    masked = [[g.double().clone() for g in update] for update in updates]
    for (i, j), seed in seeds.items():
        prg = torch.Generator().manual_seed(seed)  # both i and j can expand s_ij into the same mask
        for t, g in enumerate(updates[i]):
            mask = scale * torch.randn(g.shape, generator=prg, dtype=torch.float64)
            masked[i][t] += mask
            masked[j][t] -= mask
    return masked


def aggregate(masked: list[Grads]) -> Grads:
    """What the server computes: the sum of the masked updates, which equals the sum of the g_i."""
    return [sum(parts).float() for parts in zip(*masked)]


# --- end core ---


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    torch.set_num_threads(1)
    split = digits_split(cfg.seed)
    px, py = torch.from_numpy(split["private"][0]), torch.from_numpy(split["private"][1])
    # One digit per client, distinct labels: the first private digit of each class.
    first = [int(np.flatnonzero(py.numpy() == c)[0]) for c in range(10)]
    net = sigmoid_mlp(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    x0 = torch.rand((10, 8, 8), generator=gen)
    rows: dict[str, dict[str, float]] = {}
    grid_t, grid_r = [], []
    for k in parse_clients(cfg.clients):
        idx = first[:k]
        updates = [[t.detach() for t in param_gradients(net, px[i : i + 1], py[i : i + 1], False)] for i in idx]
        seeds = {(i, j): int(torch.randint(2**31, (1,), generator=gen)) for i in range(k) for j in range(i + 1, k)}
        masked = pairwise_masked(updates, seeds, cfg.mask_scale)
        total = aggregate(masked)
        true_total = [sum(parts) for parts in zip(*updates)]
        cancel_err = max(float((a - b).abs().max()) for a, b in zip(total, true_total))
        # The summed update of K one-example clients is K times the gradient of their batch mean loss.
        batch_grad = [t / k for t in total]
        rec = dlg(net, batch_grad, py[idx], x0[:k], cfg.dlg_rounds)  # slot i has label y_i: aligned
        row = {"psnr": metrics.psnr(px[idx].numpy(), rec.numpy()), "mask_cancel_error": cancel_err}
        if k > 1:
            # Attacking one client's masked update directly: the masks drown the gradient.
            alone = dlg(net, [t.float() for t in masked[0]], py[idx[:1]], x0[:1], cfg.dlg_rounds)
            row["psnr_single_masked_update"] = metrics.psnr(px[idx[:1]].numpy(), alone.numpy())
        rows[f"K={k}"] = row
        grid_t.append(px[idx].numpy())
        grid_r.append(rec.numpy())
    first_k = f"K={parse_clients(cfg.clients)[0]}"
    return Result(
        metrics={"psnr": rows[first_k]["psnr"]},
        baselines={
            **{f"sum of {name}": {"psnr": r["psnr"]} for name, r in rows.items() if name != first_k},
            **{
                f"one masked update ({name})": {"psnr": r["psnr_single_masked_update"]}
                for name, r in rows.items()
                if "psnr_single_masked_update" in r
            },
            "public mean digit": {"psnr": metrics.psnr(px[first].numpy(), np.repeat(px.mean(0).numpy()[None], 10, 0))},
        },
        targets=np.concatenate(grid_t),
        reconstructions=np.concatenate(grid_r),
        extra={"per_clients": rows},
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
