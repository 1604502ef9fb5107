"""Attribute inference: recover a record's sensitive attribute from a model and the record's other fields.

A model $f$ was trained on records $(x, s, y)$: known attributes $x$, a sensitive attribute $s$
(here binary, e.g. a genotype or a diagnosis) and a label $y$. The attacker knows a training
record's $x$ and $y$ (e.g. the dose a patient received), but not $s$, and can query $f$. Trying
every value of $s$ and asking which one makes the model agree with what is known:

- **Fredrikson et al. 2014** (the warfarin study): weight the model's belief in the known label by
  the attribute's marginal prior $\\pi$ (from public statistics),
  $$\\hat{s} = \\arg\\max_{v} \\; \\pi(v)\\, f_y(x, s{=}v),$$
  where $f_y$ is the model's probability of the known label $y$.
- **Confidence-score attack (Mehnaz et al. 2022, CSMIA)**: if exactly one value $v$ makes the
  model predict $y$, answer $v$; if several or none do, answer the value whose prediction is most
  (respectively least wrongly) confident: $\\hat{s} = \\arg\\max_v \\pm \\max_k f_k(x, s{=}v)$ - no prior.

Both beat guessing the most common value (the prior-only baseline) because a trained model, and
more so an overfit one, has learnt how $s$ moves $y$ for the records it saw. A second baseline,
*imputation*, predicts $s$ from $(x, y)$ with a model fitted on public records and no access to $f$;
when the attack does not beat it, the model leaks no more than the population statistics do.

Papers: `fredrikson2014pharmacogenetics` (USENIX Security 2014), `mehnaz2022attribute`
(USENIX Security 2022).

How this differs from the papers:

1. Records are generated (six Gaussian known attributes, a binary sensitive one, a binary label
   with 10% flipped), not the IWPC warfarin, Adult or GSS data.
2. The target is a small MLP classifier; Fredrikson et al. attack a linear regression on the dose
   (continuous $y$, Gaussian error model), and Mehnaz et al. decision trees and neural networks.
3. The sensitive attribute is binary; both attacks extend to categorical values by enumerating them.
4. Mehnaz et al.'s label-only attack (LOMIA) and their partial-knowledge variants are not implemented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, seed_everything

PAPERS = ("fredrikson2014pharmacogenetics", "mehnaz2022attribute")

N_KNOWN = 6  # known attributes per record


@dataclass(frozen=True)
class Config:
    """Settings of one attribute-inference run on generated records."""

    seed: int = 0
    """Seeds the data, the target model and the split."""
    n_train: int = 400
    """Records the target is trained on (the attack's victims)."""
    n_public: int = 2000
    """Public records: the prior pi and the imputation baseline are fitted on them."""
    n_nonmember: int = 400
    """Records the target never saw, attacked too, to show what membership adds."""
    s_effect: float = 2.0
    """How strongly the sensitive attribute moves the label's logit."""
    epochs: int = 300
    """Target training epochs (full batch); long enough to fit the training records closely."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        for name in ("n_train", "n_public", "n_nonmember", "epochs"):
            if getattr(self, name) < 10:
                raise ValueError(f"{name} must be at least 10, got {getattr(self, name)}")
        if self.s_effect < 0:
            raise ValueError(f"s_effect must be >= 0, got {self.s_effect}")


def generate(n: int, s_effect: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n records: known attributes x (n, 6), sensitive s (n,) in {0, 1} (about 30% ones), label y (n,)."""
    x = rng.normal(size=(n, N_KNOWN))
    s = (0.5 * x[:, 0] + rng.normal(size=n) > 0.6).astype(np.int64)  # weakly tied to x[0]
    w = np.array([1.0, -1.0, 0.5, 0.0, 0.5, -0.5])
    logit = x @ w + s_effect * s - 0.6 + 0.5 * rng.normal(size=n)
    y = (logit > 0).astype(np.int64)
    flip = rng.random(n) < 0.10  # label noise: what an overfit model memorises per record
    y[flip] = 1 - y[flip]
    return x, s, y


def with_s(x: np.ndarray, s: np.ndarray | int) -> torch.Tensor:
    """The model's input: known attributes with the sensitive one appended, (n, 7)."""
    s_col = np.broadcast_to(np.asarray(s, dtype=np.float64), (len(x),))[:, None]
    return torch.tensor(np.hstack([x, s_col]), dtype=torch.float32)


def train_target(x: np.ndarray, s: np.ndarray, y: np.ndarray, cfg: Config) -> nn.Module:
    torch.manual_seed(cfg.seed)
    model = nn.Sequential(nn.Linear(N_KNOWN + 1, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, labels = with_s(x, s), torch.tensor(y)
    for _ in range(cfg.epochs):
        opt.zero_grad()
        F.cross_entropy(model(inputs), labels).backward()
        opt.step()
    return model.eval()


# --- core ---
def query_all_values(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """The model's confidences for every candidate s: (n, 2 values of s, 2 classes)."""
    with torch.no_grad():
        return np.stack([F.softmax(model(with_s(x, v)), dim=1).numpy() for v in (0, 1)], axis=1)


def fredrikson_attack(conf: np.ndarray, y: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """argmax_v pi(v) * f_y(x, s=v); conf (n, V, K), y (n,), prior (V,) -> guesses (n,)."""
    p_known_label = conf[np.arange(len(y)), :, y]  # (n, V): f_y(x, s=v) for each candidate v
    return np.argmax(prior[None, :] * p_known_label, axis=1)


def csmia_attack(conf: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mehnaz et al.'s confidence-score rule; conf (n, V, K), y (n,) -> guesses (n,)."""
    predicted = conf.argmax(2)  # (n, V): the model's label for each candidate value
    top_conf = conf.max(2)  # (n, V): how sure it is of that label
    matches = predicted == y[:, None]  # (n, V)
    n_match = matches.sum(1)
    guess = np.where(matches, top_conf, -np.inf).argmax(1)  # one or several matches: most confident match
    none = n_match == 0
    guess[none] = top_conf[none].argmin(1)  # no match: the value the model is least sure is wrong
    return guess


# --- end core ---


def run(cfg: Config) -> Result:
    torch.set_num_threads(1)  # tiny models: one thread is faster than two contending ones, and repeatable
    seed_everything(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    x_tr, s_tr, y_tr = generate(cfg.n_train, cfg.s_effect, rng)
    x_pub, s_pub, y_pub = generate(cfg.n_public, cfg.s_effect, rng)
    x_out, s_out, y_out = generate(cfg.n_nonmember, cfg.s_effect, rng)
    target = train_target(x_tr, s_tr, y_tr, cfg)

    prior = np.bincount(s_pub, minlength=2) / len(s_pub)  # pi(v), from public records
    imputer = LogisticRegression(max_iter=1000).fit(np.hstack([x_pub, y_pub[:, None]]), s_pub)

    def attacks(x: np.ndarray, s: np.ndarray, y: np.ndarray) -> dict[str, float]:
        conf = query_all_values(target, x)
        return {
            "fredrikson": metrics.attribute_acc(fredrikson_attack(conf, y, prior), s),
            "csmia": metrics.attribute_acc(csmia_attack(conf, y), s),
            "prior": metrics.attribute_acc(np.full(len(s), prior.argmax()), s),
            "imputation": metrics.attribute_acc(imputer.predict(np.hstack([x, y[:, None]])), s),
        }

    members, outsiders = attacks(x_tr, s_tr, y_tr), attacks(x_out, s_out, y_out)
    with torch.no_grad():
        train_acc = float((target(with_s(x_tr, s_tr)).argmax(1).numpy() == y_tr).mean())
        test_acc = float((target(with_s(x_out, s_out)).argmax(1).numpy() == y_out).mean())
    return Result(
        metrics={"attribute-acc": members["fredrikson"]},
        baselines={
            "prior only (most common value)": {"attribute-acc": members["prior"]},
            "imputation from (x, y), no model access": {"attribute-acc": members["imputation"]},
            "other attack: CSMIA rule (Mehnaz et al.)": {"attribute-acc": members["csmia"]},
        },
        extra={
            "attacked": f"{cfg.n_train} training records; 'attack' is Fredrikson et al.'s prior-weighted rule",
            "fredrikson on non-members": outsiders["fredrikson"],
            "csmia on non-members": outsiders["csmia"],
            "imputation on non-members": outsiders["imputation"],
            "target train accuracy": train_acc,
            "target test accuracy": test_acc,
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
