"""Graph model inversion (GraphMI): recovering a graph's edges from a trained GCN.

A two-layer graph convolutional network $f_\\theta(A, X) = \\hat A\\, \\sigma(\\hat A X W_1) W_2$, with
$\\hat A = D^{-1/2}(A + I)D^{-1/2}$, is trained on a private graph $A$. The attacker has the trained
weights $\\theta$, the node features $X$ and the node labels $y$, but not the edges. GraphMI
(`zhang2021graphmi`) searches for the adjacency that makes the model fit:

$$\\min_{S \\in [0,1]^{n \\times n},\\, S = S^\\top} \\; \\mathrm{CE}(f_\\theta(S, X), y)
  + \\alpha\\, \\mathrm{tr}(X^\\top L_S X) + \\beta \\lVert S \\rVert_1$$

where $\\mathrm{tr}(X^\\top L_S X) = \\tfrac12 \\sum_{ij} S_{ij} \\lVert x_i - x_j \\rVert^2$ prefers
edges between similar nodes (graphs are homophilous) and the $\\ell_1$ term keeps $S$ sparse. The
score $S_{ij}$ ranks node pairs; edge recovery is measured by AUC.

A stronger attacker who also sees the model's outputs on the real graph (e.g. a served node
classifier) matches those instead of the labels: $\\lVert f_\\theta(S, X) - f_\\theta(A, X) \\rVert^2$.
The outputs depend on each node's actual neighbours, not only on its class.

How this differs from the papers:

1. The graph is a small synthetic stochastic block model (200 nodes, 4 communities) with noisy
   Gaussian features, not Cora/Citeseer; half the nodes train the GCN (the paper uses 10%);
   everything is dense plain PyTorch.
2. $S$ is parameterised as $\\mathrm{sigmoid}(\\cdot)$ and optimised with Adam instead of projected
   gradient descent with a budget projection and a low-rank (SVD) clean-up; the priors are the plain
   Laplacian and an $\\ell_1$ norm, where GraphMI's code uses a degree-normalised Laplacian and an
   $\\ell_2$ norm. The final graph auto-encoder decoding ($S \\approx \\mathrm{relu}(ZZ^\\top)$ from
   the GCN's node embeddings) is not used: it did not help on this graph.
3. The output-matching variant is our addition, to show what outputs add beyond labels. Two
   baselines: feature cosine similarity (a model-free link predictor) and "same label"
   (1 if two nodes share a label): the labels alone explain part of any label-based attack's AUC.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, seed_everything

PAPERS = ("zhang2021graphmi",)


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for the graph, the features, the GCN and the attack."""
    nodes: int = 200
    """Nodes of the synthetic graph."""
    communities: int = 4
    """Communities (= classes) of the stochastic block model."""
    p_in: float = 0.06
    """Edge probability inside a community."""
    p_out: float = 0.006
    """Edge probability across communities."""
    feature_noise: float = 1.5
    """Standard deviation of the Gaussian noise added to each node's community mean feature."""
    attack_steps: int = 300
    """Adam steps of the adjacency search."""
    smoothness: float = 1e-2
    """alpha: weight of the feature-smoothness prior tr(X^T L_S X) / n."""
    sparsity: float = 1e-4
    """beta: weight of the l1 sparsity prior ||S||_1 / n."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.nodes < 2 * self.communities or self.communities < 2:
            raise ValueError(
                f"need communities >= 2 and nodes >= 2 * communities, got {self.nodes}, {self.communities}"
            )
        for name in ("p_in", "p_out"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1], got {getattr(self, name)}")
        if self.attack_steps < 1:
            raise ValueError(f"attack_steps must be at least 1, got {self.attack_steps}")
        if min(self.feature_noise, self.smoothness, self.sparsity) < 0:
            raise ValueError("feature_noise, smoothness and sparsity must be >= 0")


def normalise(adj: torch.Tensor) -> torch.Tensor:
    """GCN propagation matrix D^-1/2 (A + I) D^-1/2 for a dense (n, n) adjacency."""
    a = adj + torch.eye(len(adj))
    d = a.sum(dim=1).pow(-0.5)
    return d[:, None] * a * d[None, :]


class GCN(nn.Module):
    """Two-layer GCN on a dense normalised adjacency: (n, n), (n, f) -> (n, classes)."""

    def __init__(self, features: int, classes: int, hidden: int = 32):
        super().__init__()
        self.l1, self.l2 = nn.Linear(features, hidden), nn.Linear(hidden, classes)

    def forward(self, prop: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return prop @ self.l2(torch.relu(prop @ self.l1(x)))


def sbm_graph(cfg: Config, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stochastic block model: adjacency (n, n), features (n, 32), labels (n,)."""
    y = torch.arange(cfg.nodes) % cfg.communities
    same = (y[:, None] == y[None, :]).float()
    prob = same * cfg.p_in + (1 - same) * cfg.p_out
    upper = torch.triu(torch.rand(cfg.nodes, cfg.nodes, generator=gen) < prob, diagonal=1).float()
    means = torch.randn(cfg.communities, 32, generator=gen)
    x = 0.5 * means[y] + cfg.feature_noise * torch.randn(cfg.nodes, 32, generator=gen)
    return upper + upper.T, x, y


# --- core ---
def graphmi(model: GCN, x: torch.Tensor, fit, steps: int, smoothness: float, sparsity: float) -> torch.Tensor:
    """Search a symmetric S in [0,1]^(n,n) minimising fit(model(S)) + alpha tr(X^T L_S X)/n + beta |S|_1/n."""
    n = len(x)
    logits = torch.zeros(n, n, requires_grad=True)  # S = sigmoid(logits): starts at 0.5 everywhere
    opt = torch.optim.Adam([logits], lr=0.05)
    sq_dist = torch.cdist(x, x) ** 2  # (n, n): ||x_i - x_j||^2, so tr(X^T L_S X) = sum(S * sq_dist) / 2
    for _ in range(steps):
        upper = torch.triu(torch.sigmoid(logits), diagonal=1)
        s = upper + upper.T  # symmetric, zero diagonal
        loss = fit(model(normalise(s), x)) + smoothness * (s * sq_dist).sum() / (2 * n) + sparsity * s.sum() / n
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.sigmoid(logits).detach()


# --- end core ---


def edge_auc(scores: torch.Tensor, adj: torch.Tensor) -> float:
    """AUC of pair scores against the true edges, over the n(n-1)/2 unordered pairs."""
    i, j = torch.triu_indices(len(adj), len(adj), offset=1)
    sym = (scores + scores.T) / 2
    return metrics.auc(sym[i, j].tolist(), adj[i, j].long().tolist())


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(cfg.seed)
    adj, x, y = sbm_graph(cfg, gen)

    # The victim trains a node classifier on the private graph (half the nodes labelled).
    model = GCN(x.shape[1], cfg.communities)
    train = torch.rand(cfg.nodes, generator=gen) < 0.5
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    prop = normalise(adj)
    for _ in range(200):
        opt.zero_grad()
        F.cross_entropy(model(prop, x)[train], y[train]).backward()
        opt.step()
    model.requires_grad_(False)
    with torch.no_grad():
        outputs = model(prop, x)
        test_acc = float((outputs.argmax(1) == y)[~train].float().mean())
        no_graph_acc = float((model(normalise(torch.zeros_like(adj)), x).argmax(1) == y)[~train].float().mean())

    from_labels = graphmi(model, x, lambda out: F.cross_entropy(out, y), cfg.attack_steps, cfg.smoothness, cfg.sparsity)
    from_outputs = graphmi(
        model, x, lambda out: F.mse_loss(out, outputs), cfg.attack_steps, cfg.smoothness, cfg.sparsity
    )
    xn = F.normalize(x, dim=1)
    return Result(
        metrics={"auc": edge_auc(from_labels, adj)},
        baselines={
            "feature cosine similarity": {"auc": edge_auc(xn @ xn.T, adj)},
            "same label": {"auc": edge_auc((y[:, None] == y[None, :]).float(), adj)},
        },
        extra={
            "graphmi_from_outputs_auc": edge_auc(from_outputs, adj),
            "edges": int(adj.sum() / 2),
            "gcn_test_accuracy": test_acc,
            "gcn_test_accuracy_without_edges": no_graph_acc,
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
