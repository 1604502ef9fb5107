"""Gradient inversion by optimisation: DLG, iDLG's label trick, and Inverting Gradients.

In federated learning a client sends the gradient of its loss on private data,
$g = \\nabla_\\theta \\ell(f_\\theta(x), y)$, to the server. The server knows $\\theta$ and the
architecture, so it can search for a dummy input $x'$ whose gradient matches:

$$x^\\star = \\arg\\min_{x'} \\; D\\big(\\nabla_\\theta \\ell(f_\\theta(x'), y'),\\; g\\big)$$

- **DLG** (`zhu2019dlg`) uses the squared Euclidean distance $D = \\lVert g' - g \\rVert^2$ and
  L-BFGS, jointly optimising a soft label.
- **iDLG** (`zhao2020idlg`) removes the label from the search: with softmax cross-entropy,
  $\\partial \\ell / \\partial z = p - e_y$ is negative only at the true class, and the last layer's
  weight gradient row $c$ is $(p_c - e_{y,c})\\, a^\\top$ with non-negative activations $a$, so the
  row with a negative sum names the label.
- **Inverting Gradients** (`geiping2020inverting`) replaces the distance by the cosine distance
  $1 - \\langle g', g \\rangle / (\\lVert g' \\rVert \\lVert g \\rVert)$ (only the direction of the
  gradient matters, so a trained model's small gradients no longer stall the search), adds a total
  variation prior $\\mathrm{TV}(x')$, optimises with Adam on signed gradients inside the box
  $[0, 1]$, and attacks a whole batch at once. The batch's labels are read first, from the most
  negative entries of the last bias gradient (one per distinct label; GradInversion,
  `yin2021gradinversion`, restores batch labels from the last weight gradient in the same spirit).

How this differs from the papers:

1. Images are 8x8 scikit-learn digits, not CIFAR/ImageNet; networks are a small sigmoid MLP (DLG
   case) and a small ReLU CNN (batch case), both at random initialisation as in DLG's experiments.
2. DLG here fixes the label recovered by iDLG instead of optimising a soft label, which is iDLG's
   own recipe; the original joint search is not repeated.
3. The batch case assumes distinct labels in the batch (needed for the label restoration) and
   matches each reconstruction to its target by label instead of by a permutation search.
4. One random restart, few steps: enough for these tiny images, far below the papers' budgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, digits_split, seed_everything

PAPERS = ("zhu2019dlg", "zhao2020idlg", "geiping2020inverting")


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for data selection, model initialisation and the dummy inputs."""
    n_single: int = 4
    """How many digits to attack one at a time with DLG + iDLG (sigmoid MLP)."""
    dlg_rounds: int = 3
    """L-BFGS rounds (each up to 200 iterations) for the single-digit DLG attack."""
    batch_size: int = 4
    """Batch size of the harder Inverting Gradients case (ReLU CNN); labels must be distinct, so <= 10."""
    ig_steps: int = 400
    """Adam steps of the Inverting Gradients attack."""
    tv_weight: float = 1e-4
    """Weight of the total-variation prior in the Inverting Gradients objective."""
    lr: float = 0.1
    """Initial Adam step size for Inverting Gradients (decayed x0.1 at 3/8, 5/8 and 7/8 of the steps)."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if not 1 <= self.n_single <= 100:
            raise ValueError(f"n_single must be between 1 and 100, got {self.n_single}")
        if self.dlg_rounds < 1:
            raise ValueError(f"dlg_rounds must be at least 1, got {self.dlg_rounds}")
        if not 1 <= self.batch_size <= 10:
            raise ValueError(f"batch_size must be between 1 and 10 (distinct digit labels), got {self.batch_size}")
        if self.ig_steps < 1:
            raise ValueError(f"ig_steps must be at least 1, got {self.ig_steps}")
        if self.tv_weight < 0:
            raise ValueError(f"tv_weight must be >= 0, got {self.tv_weight}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


def sigmoid_mlp(seed: int) -> nn.Module:
    """DLG's favourite victim: smooth (twice differentiable) activations, uniform init."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 100), nn.Sigmoid(), nn.Linear(100, 100), nn.Sigmoid(), nn.Linear(100, 10)
    )
    for p in net.parameters():
        nn.init.uniform_(p, -0.5, 0.5)
    return net


def relu_cnn(seed: int) -> nn.Module:
    """A small ReLU CNN (PyTorch's default init) for the batch case."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 10),
    )


def param_gradients(net: nn.Module, x: torch.Tensor, y: torch.Tensor, create_graph: bool) -> list[torch.Tensor]:
    """What a client shares: d(mean cross-entropy)/d(theta) for each parameter tensor."""
    loss = F.cross_entropy(net(x), y)
    return list(torch.autograd.grad(loss, list(net.parameters()), create_graph=create_graph))


# --- core ---
def idlg_label(grads: list[torch.Tensor]) -> int:
    """iDLG: the last weight's gradient row (p_c - [c=y]) * a, a >= 0, is negative only for c = y."""
    last_weight = grads[-2]  # (classes, hidden)
    return int(torch.argmin(last_weight.sum(dim=1)))


def batch_labels(grads: list[torch.Tensor], batch_size: int) -> torch.Tensor:
    """Distinct labels of a batch: dl/db = mean_i (p_i - e_{y_i}) is most negative at present classes."""
    last_bias = grads[-1]  # (classes,)
    return torch.argsort(last_bias)[:batch_size].sort().values


def dlg(
    net: nn.Module,
    target_grads: list[torch.Tensor],
    label: torch.Tensor,
    x0: torch.Tensor,
    rounds: int,
    transform: Callable[[list[torch.Tensor]], list[torch.Tensor]] | None = None,
    weights: list[torch.Tensor | float] | None = None,
) -> torch.Tensor:
    """DLG: L-BFGS on sum_t || w_t * (T(grad(x'))_t - g_t) ||^2 with the label fixed (iDLG).

    Plain DLG has T = identity and w_t = 1. A defense-aware attacker (`mi_ref.gradient_defenses`,
    `mi_ref.dp`) passes `transform` T, the defense's deterministic part applied to the dummy
    gradient (e.g. clipping), and `weights` w_t (a mask or 0/1 per tensor) that drop what the
    defense destroyed."""
    weights = weights if weights is not None else [1.0] * len(target_grads)  # x 1.0 is exact: plain DLG unchanged
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS(
        [x],
        lr=1,
        max_iter=200,
        history_size=100,
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        dummy = param_gradients(net, x, label, create_graph=True)
        if transform is not None:
            dummy = transform(dummy)
        loss = sum(((w * (d - t)) ** 2).sum() for d, t, w in zip(dummy, target_grads, weights))
        loss.backward()
        return loss

    for _ in range(rounds):
        opt.step(closure)
    return x.detach().clamp(0, 1)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Anisotropic TV of images (..., H, W): mean absolute difference between neighbouring pixels.

    The smoothness prior of Inverting Gradients, also used by `mi_ref.activation_inversion` and
    `mi_ref.deepinversion`."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def inverting_gradients(
    net: nn.Module,
    target_grads: list[torch.Tensor],
    labels: torch.Tensor,
    x0: torch.Tensor,
    steps: int,
    tv_weight: float,
    lr: float,
) -> torch.Tensor:
    """Geiping et al.: minimise 1 - cos(grad(x'), g) + tv_weight * TV(x') with signed Adam in [0, 1]."""
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    milestones = [int(steps * f) for f in (3 / 8, 5 / 8, 7 / 8)]
    schedule = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1)
    target_norm = torch.sqrt(sum((t * t).sum() for t in target_grads))
    for _ in range(steps):
        opt.zero_grad()
        dummy = param_gradients(net, x, labels, create_graph=True)
        dot = sum((d * t).sum() for d, t in zip(dummy, target_grads))
        dummy_norm = torch.sqrt(sum((d * d).sum() for d in dummy))
        loss = 1 - dot / (dummy_norm * target_norm) + tv_weight * total_variation(x)
        loss.backward()
        x.grad.sign_()  # signed gradients, as in the paper: robust to the loss's scale
        opt.step()
        schedule.step()
        with torch.no_grad():
            x.clamp_(0, 1)  # box constraint: valid pixel range
    return x.detach()


# --- end core ---


def _split(part: tuple[np.ndarray, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """A digits_split part as (N, 1, 8, 8) float images in [0, 1] and (N,) labels."""
    return torch.from_numpy(part[0]).unsqueeze(1), torch.from_numpy(part[1])


def _psnr_each(targets: np.ndarray, recons: np.ndarray) -> list[float]:
    return [metrics.psnr(t, r) for t, r in zip(targets, recons)]


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    torch.set_num_threads(1)  # tiny tensors: threads only add noise and overhead
    split = digits_split(cfg.seed)
    private_x, private_y = _split(split["private"])  # the clients' data
    public_x, public_y = _split(split["public"])  # the attacker's (server's) own digits
    gen = torch.Generator().manual_seed(cfg.seed)
    order = torch.randperm(len(private_x), generator=gen)

    # Case 1: one digit at a time through a sigmoid MLP: iDLG label, then DLG.
    mlp = sigmoid_mlp(cfg.seed)
    single_idx = order[: cfg.n_single]
    single_rec, label_hits, init_psnr = [], [], []  # label_hits: label_acc of each one-image batch
    for i in single_idx:
        x, y = private_x[i : i + 1], private_y[i : i + 1]
        g = [t.detach() for t in param_gradients(mlp, x, y, create_graph=False)]
        label = idlg_label(g)
        label_hits.append(metrics.label_acc([label], y.tolist()))
        x0 = torch.rand(x.shape, generator=gen)
        init_psnr.append(metrics.psnr(x.numpy()[0, 0], x0.numpy()[0, 0]))
        single_rec.append(dlg(mlp, g, torch.tensor([label]), x0, cfg.dlg_rounds))
    single_t = private_x[single_idx].numpy()[:, 0]
    single_r = torch.cat(single_rec).numpy()[:, 0]
    single_psnr = _psnr_each(single_t, single_r)

    # Case 2: a batch with distinct labels through a ReLU CNN: label restoration, then Inverting Gradients.
    batch_idx, seen = [], set()
    for i in order[cfg.n_single :].tolist():
        if int(private_y[i]) not in seen:
            batch_idx.append(i)
            seen.add(int(private_y[i]))
        if len(batch_idx) == cfg.batch_size:
            break
    bx, by = private_x[batch_idx], private_y[batch_idx]
    cnn = relu_cnn(cfg.seed)
    g = [t.detach() for t in param_gradients(cnn, bx, by, create_graph=False)]
    rec_labels = batch_labels(g, cfg.batch_size)
    batch_label_acc = metrics.label_acc(rec_labels.tolist(), by.tolist())
    x0 = torch.rand(bx.shape, generator=gen)
    rec = inverting_gradients(cnn, g, rec_labels, x0, cfg.ig_steps, cfg.tv_weight, cfg.lr)
    # Each dummy carries one recovered label; pair it with the target of that label.
    slot = {int(c): k for k, c in enumerate(rec_labels)}
    batch_t = bx.numpy()[:, 0]
    batch_r = np.stack([rec[slot[int(c)], 0].numpy() if int(c) in slot else np.zeros((8, 8), np.float32) for c in by])
    batch_psnr = _psnr_each(batch_t, batch_r)

    # Baselines: the public mean digit for every target; the attack's random starting point;
    # the majority public label for every target.
    mean_img = public_x.mean(dim=0)[0].numpy()
    majority = int(torch.mode(public_y).values)
    mean_psnr = float(np.mean([metrics.psnr(t, mean_img) for t in single_t]))
    majority_acc = float(np.mean([metrics.label_acc([majority], [int(y)]) for y in private_y[single_idx]]))
    return Result(
        metrics={"psnr": float(np.mean(single_psnr)), "label-acc": float(np.mean(label_hits))},
        baselines={
            "public mean digit / majority label": {"psnr": mean_psnr, "label-acc": majority_acc},
            "random start": {"psnr": float(np.mean(init_psnr))},
        },
        targets=np.concatenate([single_t, batch_t]),
        reconstructions=np.concatenate([single_r, batch_r]),
        extra={
            "dlg_single_psnr_each": single_psnr,
            "ig_batch_psnr_mean": float(np.mean(batch_psnr)),
            "ig_batch_psnr_each": batch_psnr,
            "ig_batch_label_acc": batch_label_acc,
            "ig_batch_mean_digit_psnr": float(np.mean([metrics.psnr(t, mean_img) for t in batch_t])),
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
