"""Training-data extraction: a language model memorises planted secrets and gives them back.

A generative model trained on private text can reproduce rare training sequences word for word.
Plant *canaries*, sequences of the form "<name> secret is $d_1 \\dots d_k$", in the training
text, each repeated $r$ times, train a small language model $p_\\theta$, then measure and attack:

- **Exposure** (Secret Sharer, `carlini2019secretsharer`): score every candidate secret
  $s \\in \\mathcal{R}$ (all $10^k$ digit strings) by its log-perplexity after the prefix,
  $\\ell(s) = -\\sum_t \\log p_\\theta(s_t \\mid \\text{prefix}, s_{<t})$, sort the candidates
  (rank 1 = lowest $\\ell$) and report
  $\\mathrm{exposure}(s^\\star) = \\log_2 |\\mathcal{R}| - \\log_2 \\mathrm{rank}(s^\\star)$.
  A secret the model has not memorised sits at a uniformly random rank (about 1.4 bits on average);
  a fully memorised one is ranked first ($\\log_2 10^4 \\approx 13.3$ bits for $k = 4$).
- **Extraction** (`carlini2019secretsharer`'s search for the most likely secret, and
  `carlini2021extracting`'s finding that memorised training text comes back from ordinary
  decoding): knowing only the prefix, decode the $k$ digits with a beam search over
  $p_\\theta$ and check whether the best beam is the planted secret (exact match).
- **Duplication** (`kandpal2022dedup`): groups of canaries planted 0 (control: the name never
  occurs), 1, 2, 4, 8 and 16 times show memorisation and extraction growing with repetition, which
  is why deduplicating training data is a defense. With the defaults (seed 0), exposure climbs from
  about 1.4 bits (0x) and 3 (1x) through about 8 (4x) to 13.2 of a possible 13.3 (16x); beam search
  extracts 7 of the 8 secrets planted 16 times, 1 of those planted 8 times and none planted fewer.
- **Defense: DP-SGD** (the Secret Sharer's remedy; `abadi2016dpsgd`): train the same model with
  per-example clipping and Gaussian noise (opacus) to $(\\varepsilon, 10^{-5})$-DP. At
  $\\varepsilon = 8$ the 16x secrets fall to about 4.5 bits of exposure and none is extracted, at
  the price of a higher held-out loss (2.45 against 1.95 nats per token: the model learns the
  language less well). A sequence planted $r$ times is protected only at about $r\\varepsilon$ by
  group privacy, yet here the noise is enough.

Papers: `carlini2019secretsharer` (USENIX Security 2019), `carlini2021extracting` (USENIX Security
2021), `kandpal2022dedup` (ICML 2022).

How this differs from the papers:

1. The model is a one-layer GRU trained for 8 epochs on 2,000 eight-word sentences from a random
   Markov-chain "language" of 30 words (plus the canaries), not the papers' real models and corpora
   (a translation model and the Enron emails in the Secret Sharer, GPT-2 and its web-scraped
   training data in Carlini et al. 2021, web-scraped corpora in Kandpal et al.).
2. The candidate space is small ($10^4$), so exposure is computed exactly by scoring every
   candidate; the Secret Sharer estimates the rank from a sample of candidates when $\\mathcal{R}$
   is too large to enumerate.
3. Carlini et al. 2021 extract *without* knowing any prefix: they generate many samples and rank
   them with membership signals such as the perplexity ratio against a reference model. Here the
   attacker knows the canary's prefix (the Secret Sharer's targeted setting) and only the secret
   is unknown.
4. Kandpal et al. measure duplication across a real corpus; here it is controlled by planting each
   secret a fixed number of times.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, one_thread, seed_everything

PAPERS = ("carlini2019secretsharer", "carlini2021extracting", "kandpal2022dedup")

# Token ids: specials, the canary template, the ten digits, then the language's words, then one
# name per canary.
PAD, BOS, EOS, SECRET, IS = range(5)
DIGIT0 = 5
WORD0 = DIGIT0 + 10
HELD_OUT = 500  # sentences of the language kept out of training, for the utility figure


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for the language, the secrets, the model's initialisation and the training order."""
    vocab: int = 30
    """Words of the toy language."""
    length: int = 8
    """Words per ordinary training sentence."""
    sentences: int = 2000
    """Ordinary training sentences (the rest of the private corpus)."""
    repetitions: str = "0,1,2,4,8,16"
    """Comma-separated times each group's canaries are planted; 0 is the never-planted control."""
    canaries: int = 8
    """Canaries per repetition group (each with its own name and random secret)."""
    digits: int = 4
    """Digits in a secret; the candidate space has 10**digits secrets (at most 5, scored exhaustively)."""
    epochs: int = 8
    """Passes over the training corpus (few, as for a large language model: at 30 a canary planted once is memorised too)."""
    hidden: int = 128
    """GRU hidden size."""
    lr: float = 3e-3
    """Adam learning rate."""
    beam: int = 5
    """Beam width of the extraction search."""
    dp_epsilon: float = 8.0
    """Epsilon of the DP-SGD model trained as the defense (delta 1e-5); 0 skips the defense."""
    max_grad_norm: float = 1.0
    """DP-SGD per-example clipping norm C."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name in ("lr", "max_grad_norm"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {value}")
        if not math.isfinite(self.dp_epsilon) or self.dp_epsilon < 0:
            raise ValueError(f"dp_epsilon must be a finite number >= 0 (0 skips the defense), got {self.dp_epsilon}")
        for name in ("vocab", "length", "sentences", "canaries", "epochs", "hidden", "beam"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 1 <= self.digits <= 5:
            raise ValueError(f"digits must be between 1 and 5 (10**digits candidates are scored), got {self.digits}")
        parse_repetitions(self.repetitions)  # raises ValueError naming the field


def parse_repetitions(text: str) -> list[int]:
    """Parse e.g. "0,1,4,16" into [0, 1, 4, 16]: distinct counts from 0 to 1000, at least one of them above 0."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"repetitions must be comma-separated whole numbers, got {text!r}") from None
    if any(not 0 <= c <= 1000 for c in counts) or len(set(counts)) != len(counts) or max(counts) == 0:
        raise ValueError(f"repetitions must be distinct counts from 0 to 1000, at least one above 0; got {text!r}")
    return counts


class LanguageModel(nn.Module):
    """Embedding -> one GRU layer -> next-token logits. `rnn` is nn.GRU, or opacus' DPGRU (same
    maths, built from layers opacus can compute per-example gradients for) for DP-SGD."""

    def __init__(self, vocab: int, hidden: int, width: int = 32, rnn: type[nn.Module] = nn.GRU):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.gru = rnn(width, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, T, vocab) logits for the token after each position."""
        return self.out(self.gru(self.embed(tokens))[0])


def markov_sentences(n: int, vocab: int, length: int, gen: torch.Generator) -> torch.Tensor:
    """(n, length) word ids (offset by WORD0) from a random sparse Markov chain over `vocab` words."""
    dirichlet = torch.distributions.Dirichlet(torch.full((vocab,), 0.2))
    trans, first = dirichlet.sample((vocab,)), dirichlet.sample()
    words = torch.empty(n, length, dtype=torch.long)
    words[:, 0] = torch.multinomial(first, n, replacement=True, generator=gen)
    for t in range(1, length):
        words[:, t] = torch.multinomial(trans[words[:, t - 1]], 1, generator=gen).squeeze(1)
    return words + WORD0


def canary_prefix(name: int) -> list[int]:
    return [BOS, name, SECRET, IS]


def pad_batch(rows: list[list[int]]) -> torch.Tensor:
    longest = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (longest - len(r)) for r in rows])


def next_token_loss(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of a padded (B, T) batch, PAD positions ignored."""
    logits = model(batch[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), ignore_index=PAD)


def train(model: LanguageModel, corpus: list[list[int]], epochs: int, lr: float, gen: torch.Generator) -> None:
    """Plain training on `corpus`: Adam, batches of 64, reshuffled each epoch."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = pad_batch(corpus)
    for _ in range(epochs):
        for idx in torch.randperm(len(data), generator=gen).split(64):
            loss = next_token_loss(model, data[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


def train_dp(vocab: int, corpus: list[list[int]], cfg: Config, seed: int) -> LanguageModel:
    """The same model and recipe under DP-SGD (opacus, RDP accountant) to (cfg.dp_epsilon, 1e-5)-DP,
    each padded sequence one example; returns a plain LanguageModel holding the trained weights."""
    from opacus import PrivacyEngine  # imported here: only the defense needs it
    from opacus.layers import DPGRU

    torch.manual_seed(seed)
    model = LanguageModel(vocab, cfg.hidden, rnn=DPGRU)
    data = torch.utils.data.TensorDataset(pad_batch(corpus))
    loader = torch.utils.data.DataLoader(
        data, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # opacus warns about secure RNG and Poisson sampling; fine for a toy
        engine = PrivacyEngine(accountant="rdp", secure_mode=False)
        private, opt, loader = engine.make_private_with_epsilon(
            module=model, optimizer=opt, data_loader=loader, target_epsilon=cfg.dp_epsilon, target_delta=1e-5,
            epochs=cfg.epochs, max_grad_norm=cfg.max_grad_norm, noise_generator=torch.Generator().manual_seed(seed),
        )  # fmt: skip
        for _ in range(cfg.epochs):
            for (batch,) in loader:
                if len(batch) == 0:
                    continue  # Poisson sampling can draw an empty batch
                loss = next_token_loss(private, batch)
                opt.zero_grad()
                loss.backward()
                opt.step()
    # Copy the weights out of opacus' GradSampleModule: its hooks stay on the wrapped module.
    plain = LanguageModel(vocab, cfg.hidden, rnn=DPGRU)
    plain.load_state_dict(private._module.state_dict())
    return plain


# --- core ---
@torch.no_grad()
def candidate_log_perplexities(model: LanguageModel, name: int, digits: int) -> torch.Tensor:
    """Log-perplexity l(s) of every secret s in 0 .. 10**digits - 1 after the canary's prefix.

    Row i of the result is the candidate whose digits spell i in base ten (zero-padded)."""
    n = 10**digits
    cand = torch.arange(n)[:, None] // 10 ** torch.arange(digits - 1, -1, -1) % 10 + DIGIT0  # (n, digits)
    prefix = torch.tensor(canary_prefix(name)).expand(n, -1)
    seq = torch.cat([prefix, cand], dim=1)
    logp = F.log_softmax(model(seq[:, :-1]), dim=-1)[:, -digits:]  # predictions for the digit positions
    return -logp.gather(2, cand[..., None]).squeeze(2).sum(1)


@torch.no_grad()
def beam_extract(model: LanguageModel, name: int, digits: int, beam: int) -> list[int]:
    """The attacker knows the prefix and the format: keep the `beam` most likely digit strings,
    extend each by every digit, and return the best complete one (digit values 0-9)."""
    beams: list[tuple[float, list[int]]] = [(0.0, [])]
    for _ in range(digits):
        rows = [canary_prefix(name) + [DIGIT0 + d for d in ds] for _, ds in beams]
        logp = F.log_softmax(model(torch.tensor(rows))[:, -1, DIGIT0 : DIGIT0 + 10], dim=-1)  # renormalised over digits
        grown = [(score - float(logp[i, d]), ds + [d]) for i, (score, ds) in enumerate(beams) for d in range(10)]
        beams = sorted(grown, key=lambda b: b[0])[:beam]
    return beams[0][1]


# --- end core ---


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    counts = parse_repetitions(cfg.repetitions)
    n_names = len(counts) * cfg.canaries
    vocab = WORD0 + cfg.vocab + n_names

    # The private corpus: ordinary sentences plus each group's canaries, planted r times each.
    # HELD_OUT more sentences of the same language measure how well a model learned it (utility).
    sentences = markov_sentences(cfg.sentences + HELD_OUT, cfg.vocab, cfg.length, gen)
    corpus = [[BOS, *s, EOS] for s in sentences[: cfg.sentences].tolist()]
    held_out = pad_batch([[BOS, *s, EOS] for s in sentences[cfg.sentences :].tolist()])
    names = torch.arange(WORD0 + cfg.vocab, vocab).view(len(counts), cfg.canaries)
    secrets = torch.randint(10, (len(counts), cfg.canaries, cfg.digits), generator=gen)
    for g, r in enumerate(counts):
        for name, secret in zip(names[g].tolist(), secrets[g].tolist()):
            corpus += [canary_prefix(name) + [DIGIT0 + d for d in secret] + [EOS]] * r

    place = 10 ** torch.arange(cfg.digits - 1, -1, -1)

    def attack(model: LanguageModel) -> dict[str, dict[str, float]]:
        """Exposure and beam-search extraction of every canary, averaged per repetition group."""
        model.eval()
        per_group = {}
        for g, r in enumerate(counts):
            exposures, matches = [], []
            for name, secret in zip(names[g].tolist(), secrets[g]):
                scores = candidate_log_perplexities(model, name, cfg.digits)
                exposures.append(metrics.exposure(float(scores[int((secret * place).sum())]), scores.tolist()))
                matches.append(metrics.exact_match(beam_extract(model, name, cfg.digits, cfg.beam), secret.tolist()))
            per_group[f"planted {r}x"] = {"exposure": float(np.mean(exposures)), "exact-match": float(np.mean(matches))}
        return per_group

    def held_out_loss(model: LanguageModel) -> float:
        with torch.no_grad():
            return float(next_token_loss(model, held_out))

    model = LanguageModel(vocab, cfg.hidden)
    with one_thread():
        train(model, corpus, cfg.epochs, cfg.lr, gen)
    per_group = attack(model)

    n = 10**cfg.digits
    # A secret at a uniformly random rank k: exposure log2 n - log2 k, averaged over k = 1..n.
    chance_exposure = math.log2(n) - float(np.mean(np.log2(np.arange(1, n + 1))))
    most = f"planted {max(counts)}x"
    baselines = {"random guess": {"exposure": chance_exposure, "exact-match": 1 / n}}
    if 0 in counts:
        baselines["never-planted control"] = per_group["planted 0x"]
    extra = {
        "attack column": f"canaries {most} (the most repeated group)",
        "per_group": per_group,
        "max possible exposure (bits)": math.log2(n),
        "held-out loss (nats per token)": held_out_loss(model),
    }
    if cfg.dp_epsilon > 0:
        with one_thread():
            dp_model = train_dp(vocab, corpus, cfg, cfg.seed)
        dp_groups = attack(dp_model)
        baselines[f"{most} under DP-SGD (eps {cfg.dp_epsilon:g})"] = dp_groups[most]
        extra["dp_per_group"] = dp_groups
        extra["DP-SGD held-out loss (nats per token)"] = held_out_loss(dp_model)
    return Result(metrics=dict(per_group[most]), baselines=baselines, extra=extra)


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
