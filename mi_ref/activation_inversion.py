"""Activation inversion: recovering inputs from the activations a split model passes on.

In split (collaborative) inference a client runs the first layers $f_1$ and sends the cut-layer
activation $a = f_1(x)$ to a server that runs the rest. He, Zhang and Lee
(`he2019collaborative`) show that the server can invert $a$:

- **white-box** (the server knows $f_1$): regularised maximum likelihood,
  $x^\\star = \\arg\\min_{x \\in [0,1]^d} \\lVert f_1(x) - a \\rVert^2 + \\lambda\\, \\mathrm{TV}(x)$;
- **black-box** (the server may only query $f_1$): query it on auxiliary data, train an inverse
  network $g \\approx f_1^{-1}$ by $\\min_g \\sum_{x_{aux}} \\lVert g(f_1(x_{aux})) - x_{aux} \\rVert^2$,
  then output $g(a)$.

The same leak exists in **decentralised (pipeline-parallel) training of language models**: the
stage that holds layers $k+1 \\dots L$ receives the hidden states $h_k$ of every private training
sequence. The activation inversion attack (AIA, `dai2025aia`) builds a shadow
dataset $\\{(h_k^{shadow}(t), t)\\}$ by running the public pre-trained model (the model the victim
fine-tunes from) on public text, trains an attack model $h_k \\mapsto t$ on it, and applies it to
the victim's activations, which drift only a little during fine-tuning.

How this differs from the papers:

1. Images are 8x8 digits and the client part is two small conv layers; He et al. use MNIST and
   CIFAR-10 with deeper networks cut at several layers. Their third, query-free setting (a shadow model) is not implemented.
2. The language model is a two-block toy transformer on a Markov-chain "language" of 32 tokens, not
   GPT-2/LLaMA on real corpora; the attack model is a per-position MLP rather than a decoder LM.
3. The victim's fine-tuning data follow a different Markov chain from the public data (a domain
   shift), and the attacker reads activations during the whole fine-tuning run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.gradient_inversion import total_variation
from mi_ref.harness import Result, cli, digits_split, seed_everything

PAPERS = ("he2019collaborative", "dai2025aia")


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for data, models and attacks."""
    n_targets: int = 16
    """Private digits whose cut-layer activations the server tries to invert."""
    whitebox_steps: int = 300
    """Adam steps of the white-box (regularised maximum likelihood) inversion."""
    tv_weight: float = 1e-3
    """Total-variation weight of the white-box inversion."""
    inverse_epochs: int = 150
    """Training epochs of the black-box inverse network on the attacker's public digits."""
    vocab: int = 32
    """Vocabulary size of the toy language."""
    seq_len: int = 16
    """Tokens per sequence of the toy language."""
    pretrain_steps: int = 300
    """Steps of public pre-training of the toy language model (also the AIA shadow model)."""
    finetune_steps: int = 100
    """Steps of the victim's private fine-tuning, during which the attacker reads activations."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if not 1 <= self.n_targets <= 700:
            raise ValueError(f"n_targets must be between 1 and 700 (the private split's size), got {self.n_targets}")
        for name in ("whitebox_steps", "inverse_epochs", "pretrain_steps", "finetune_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.tv_weight < 0:
            raise ValueError(f"tv_weight must be >= 0, got {self.tv_weight}")
        if self.vocab < 2 or self.seq_len < 2:
            raise ValueError(f"vocab and seq_len must be >= 2, got vocab={self.vocab}, seq_len={self.seq_len}")


# Split inference on digits: client part f1 (B,1,8,8) -> (B,16,4,4), server part -> 10 logits.
def split_classifier(seed: int) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    client = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU()
    )
    server = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
    return client, server


def train_split(
    client: nn.Module,
    server: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 10,
    noise_std: float | None = None,
    extra_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    gen: torch.Generator | None = None,
) -> None:
    """Train client and server together on cross-entropy, then freeze both.

    Defenses (`mi_ref.feature_defenses`) add Gaussian noise of std `noise_std` to the cut-layer
    activations a (None: no noise drawn; 0.0 still draws it, so a sweep over noise levels sees the
    same batch order) and `extra_loss(x_batch, a)` to the loss. `gen` drives the batch order and the
    noise (None: torch's global generator)."""
    params = list(client.parameters()) + list(server.parameters())
    opt = torch.optim.Adam(params, lr=3e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            act = client(x[idx])  # (B, 16, 4, 4): what crosses the cut
            sent = act if noise_std is None else act + noise_std * torch.randn(act.shape, generator=gen)
            loss = F.cross_entropy(server(sent), y[idx])
            if extra_loss is not None:
                loss = loss + extra_loss(x[idx], act)
            loss.backward()
            opt.step()
    for p in params:
        p.requires_grad_(False)


# --- core ---
def whitebox_inversion(client: nn.Module, act: torch.Tensor, steps: int, tv_weight: float) -> torch.Tensor:
    """rMLE: argmin_x ||f1(x) - a||^2 + tv * TV(x) over x in [0,1]^(B,1,8,8), from mid-grey."""
    x = torch.full((act.shape[0], 1, 8, 8), 0.5, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((client(x) - act) ** 2).sum() / act.shape[0] + tv_weight * total_variation(x)
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    return x.detach()


def train_inverse_network(client: nn.Module, aux: torch.Tensor, epochs: int) -> nn.Module:
    """Black-box: query f1 on auxiliary images, fit g(f1(x_aux)) ~ x_aux with MSE."""
    with torch.no_grad():
        acts = client(aux).flatten(1)  # (N, 256): the only access to f1 is these queries
    inverse = nn.Sequential(nn.Linear(acts.shape[1], 256), nn.ReLU(), nn.Linear(256, 64), nn.Sigmoid())
    opt = torch.optim.Adam(inverse.parameters(), lr=1e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(aux)).split(64):
            opt.zero_grad()
            F.mse_loss(inverse(acts[idx]), aux[idx].flatten(1)).backward()
            opt.step()
    return inverse


def aia_attack_model(shadow_stage: nn.Module, public_tokens: torch.Tensor, vocab: int, steps: int = 300) -> nn.Module:
    """AIA: label shadow activations h_k(t) of public text with t, fit a per-position classifier."""
    with torch.no_grad():
        acts = shadow_stage(public_tokens)  # (N, T, d)
    d = acts.shape[-1]
    attack = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, vocab))
    opt = torch.optim.Adam(attack.parameters(), lr=3e-3)
    flat_a, flat_t = acts.reshape(-1, d), public_tokens.reshape(-1)
    for _ in range(steps):
        idx = torch.randint(len(flat_a), (512,))
        opt.zero_grad()
        F.cross_entropy(attack(flat_a[idx]), flat_t[idx]).backward()
        opt.step()
    return attack


# --- end core ---


class ToyLM(nn.Module):
    """A causal two-block transformer LM; `stage1` is what the first pipeline stage computes."""

    def __init__(self, vocab: int, seq_len: int, d: int = 32):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(seq_len, d) * 0.1)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d, nhead=2, dim_feedforward=64, dropout=0.0, batch_first=True, norm_first=True)
            for _ in range(2)
        )
        self.head = nn.Linear(d, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(seq_len))

    def stage1(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T) tokens -> (B, T, d) hidden states sent to the next stage."""
        return self.blocks[0](self.tok(tokens) + self.pos, src_mask=self.mask, is_causal=True)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks[1](self.stage1(tokens), src_mask=self.mask, is_causal=True))


class Stage1(nn.Module):
    """The first pipeline stage of a ToyLM as a module, for the attack code."""

    def __init__(self, lm: ToyLM):
        super().__init__()
        self.lm = lm

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.lm.stage1(tokens)


def markov_corpus(vocab: int, seq_len: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """n sequences from a random sparse Markov chain (a toy 'language' or 'domain')."""
    trans = torch.distributions.Dirichlet(torch.full((vocab,), 0.1)).sample((vocab,))
    seqs = torch.empty(n, seq_len, dtype=torch.long)
    seqs[:, 0] = torch.randint(vocab, (n,), generator=gen)
    for t in range(1, seq_len):
        seqs[:, t] = torch.multinomial(trans[seqs[:, t - 1]], 1, generator=gen).squeeze(1)
    return seqs


def lm_steps(lm: ToyLM, data: torch.Tensor, steps: int, lr: float, gen: torch.Generator, on_batch=None) -> None:
    opt = torch.optim.Adam(lm.parameters(), lr=lr)
    for _ in range(steps):
        batch = data[torch.randint(len(data), (32,), generator=gen)]
        if on_batch is not None:
            with torch.no_grad():
                on_batch(batch, lm.stage1(batch))  # what the next stage receives
        opt.zero_grad()
        logits = lm(batch)  # (B, T, V); position t predicts token t+1
        F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1)).backward()
        opt.step()


def token_accuracy(pred: torch.Tensor, true: torch.Tensor) -> float:
    """Fraction of positions whose token is recovered."""
    return float((pred == true).float().mean())


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(cfg.seed)

    # --- Split inference on digits (He et al.) ---
    split = digits_split(cfg.seed)
    private_x = torch.from_numpy(split["private"][0]).unsqueeze(1)  # (N, 1, 8, 8): the client's inputs
    private_y = torch.from_numpy(split["private"][1])
    public_x = torch.from_numpy(split["public"][0]).unsqueeze(1)  # the server's auxiliary digits
    public_y = torch.from_numpy(split["public"][1])
    client, server = split_classifier(cfg.seed)
    train_split(client, server, private_x, private_y)
    targets = private_x[torch.randperm(len(private_x), generator=gen)[: cfg.n_targets]]
    with torch.no_grad():
        acts = client(targets)  # what the server receives
    wb = whitebox_inversion(client, acts, cfg.whitebox_steps, cfg.tv_weight)
    inverse = train_inverse_network(client, public_x, cfg.inverse_epochs)
    with torch.no_grad():
        bb = inverse(acts.flatten(1)).reshape(-1, 1, 8, 8)
    mean_img = public_x.mean(dim=0)[0].numpy()
    t_np = targets.numpy()[:, 0]

    def mean_psnr(recons: np.ndarray) -> float:
        return float(np.mean([metrics.psnr(t, r) for t, r in zip(t_np, recons)]))

    # --- AIA on a toy pipeline-parallel language model ---
    public_text = markov_corpus(cfg.vocab, cfg.seq_len, 2000, gen)
    private_text = markov_corpus(cfg.vocab, cfg.seq_len, 500, gen)
    pretrained = ToyLM(cfg.vocab, cfg.seq_len)
    lm_steps(pretrained, public_text, cfg.pretrain_steps, 3e-3, gen)
    # The attacker holds the public pre-trained model: its first stage is the shadow model.
    shadow = Stage1(copy.deepcopy(pretrained))
    for p in shadow.parameters():
        p.requires_grad_(False)
    attack = aia_attack_model(shadow, public_text, cfg.vocab)
    victim = copy.deepcopy(pretrained)
    seen_tokens, seen_acts = [], []
    lm_steps(
        victim,
        private_text,
        cfg.finetune_steps,
        1e-3,
        gen,
        on_batch=lambda tok, act: (seen_tokens.append(tok), seen_acts.append(act)),
    )
    with torch.no_grad():
        recovered = torch.cat([attack(a).argmax(-1) for a in seen_acts])
    true_tokens = torch.cat(seen_tokens)
    majority = int(torch.mode(public_text.flatten()).values)
    aia_acc = token_accuracy(recovered, true_tokens)
    aia_f1 = float(np.mean([metrics.token_f1(p.tolist(), t.tolist()) for p, t in zip(recovered, true_tokens)]))
    freq_f1 = float(np.mean([metrics.token_f1([majority] * cfg.seq_len, t.tolist()) for t in true_tokens]))

    return Result(
        metrics={"psnr": mean_psnr(wb.numpy()[:, 0]), "token-f1": aia_f1},
        baselines={
            "public mean digit / majority token": {
                "psnr": mean_psnr(np.repeat(mean_img[None], len(t_np), 0)),
                "token-f1": freq_f1,
            },
        },
        targets=t_np,
        reconstructions=wb.numpy()[:, 0],
        extra={
            "whitebox_psnr": mean_psnr(wb.numpy()[:, 0]),
            "inverse_network_psnr": mean_psnr(bb.numpy()[:, 0]),
            "aia_token_accuracy": aia_acc,
            "majority_token_accuracy": token_accuracy(torch.full_like(true_tokens, majority), true_tokens),
            "split_model_accuracy_public": float((server(client(public_x)).argmax(1) == public_y).float().mean()),
        },
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
