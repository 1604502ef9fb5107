"""Text embedding inversion: one-shot inverter, then correction by re-embedding (vec2text's idea).

A service returns a sentence embedding $e = \\phi(w_1 \\dots w_L)$ and the attacker wants the words.

- **One-shot inverter** (Song & Raghunathan `song2020embedding`; GEIA `li2023geia`): train a
  network $\\psi$ on public sentences the attacker embeds itself. Song & Raghunathan predict the
  *set* of words (a multi-label classifier, order lost); GEIA-style inverters predict the sentence,
  $\\min_\\psi \\sum_t \\mathrm{CE}(\\psi(\\phi(w))_t, w_t)$, and read off
  $\\hat w_t = \\arg\\max \\psi(e)_t$. It recovers most words but rarely the whole sentence.
- **Guess, re-embed, correct** (vec2text, `morris2023vec2text`): the attacker can query $\\phi$, so
  it can check a hypothesis $h$ by how close $\\phi(h)$ is to $e$ and edit it towards $e$:
  $h^{(r+1)} = \\mathrm{correct}(e, \\phi(h^{(r)}), h^{(r)})$, keeping the hypotheses with the highest
  $\\cos(\\phi(h), e)$. Here the corrector is a beam search over single-word edits scored by
  re-embedding, starting from the one-shot guess.
- **A second language** (`chen2024multilingual`): a multilingual encoder maps a sentence and its
  translation close together. Language B below reuses the encoder with its own vocabulary whose
  word vectors are (noisy) copies of their language-A translations'. An attacker who only trained on
  language A inverts B's embeddings by translating its guesses word by word (the paper's ad hoc
  translation) and then correcting them in B, so B is exposed without any B training data; with an
  unaligned vocabulary the same attack fails.

How this differs from the papers:

1. The encoder is a random, untrained toy: $\\phi(w) = \\mathrm{normalise}(W_2 \\cdot
   \\mathrm{mean}_t \\tanh(W_1 (E[w_t] \\odot P_t)))$ (token times position vector, so word order
   matters), not a pre-trained transformer (GTR, SBERT, ME5); sentences are 8 words from a random
   Markov-chain "language" of 40 words.
2. The one-shot inverter is a non-autoregressive MLP predicting all positions at once, a simple
   stand-in for GEIA's decoder; the bag-of-words inverter keeps the words whose probability is
   above 1/2.
3. vec2text trains a transformer corrector conditioned on $(e, \\phi(h), h)$; here the correction
   step is a search over single-word edits ranked by the re-embedded cosine similarity (vec2text
   uses such sequence-level beam search on top of its learned corrector).
4. The two "languages" are the same grammar under a word-for-word dictionary, an idealised version
   of the translation alignment that multilingual encoders learn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mi_ref import metrics
from mi_ref.harness import Result, cli, seed_everything

PAPERS = ("song2020embedding", "li2023geia", "morris2023vec2text", "chen2024multilingual")


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Seed for the encoder, the languages, the inverter and the private sentences."""
    vocab: int = 40
    """Words per language."""
    length: int = 8
    """Words per sentence."""
    dim: int = 64
    """Embedding dimension returned by the toy encoder."""
    n_targets: int = 64
    """Private sentences whose embeddings are attacked."""
    inverter_steps: int = 1000
    """Training steps (batches of 128 fresh public sentences) of the one-shot inverter."""
    beam: int = 8
    """Hypotheses kept by the correction loop."""
    rounds: int = 30
    """Maximum correction rounds (one word edited per round); stops early when no edit helps."""
    alignment_noise: float = 0.3
    """Language B word vectors = their A translation's vectors + this much Gaussian noise."""

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (numpy refuses negative seeds), got {self.seed}")
        for name, value in vars(self).items():  # NaN and inf slip past the range checks below
            if isinstance(value, float) and not -float("inf") < value < float("inf"):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.vocab < 2 or self.length < 1 or self.dim < 1:
            raise ValueError(f"vocab must be >= 2, length and dim >= 1; got {self.vocab}, {self.length}, {self.dim}")
        if self.vocab**self.length >= 2**62:
            raise ValueError(
                f"vocab ** length must stay below 2**62 (sentences are keyed as integers), got {self.vocab}, {self.length}"
            )
        for name in ("n_targets", "inverter_steps", "beam", "rounds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.alignment_noise < 0:
            raise ValueError(f"alignment_noise must be >= 0, got {self.alignment_noise}")


class ToyEncoder(nn.Module):
    """A random position-aware sentence encoder shared by several vocabularies ("languages")."""

    def __init__(self, vocab: int, length: int, dim: int, width: int = 64):
        super().__init__()
        self.words = nn.ParameterDict({"A": nn.Parameter(torch.randn(vocab, width))})
        self.pos = nn.Parameter(torch.randn(length, width))
        self.mix = nn.Linear(width, 4 * width)
        self.out = nn.Linear(4 * width, dim)
        self.requires_grad_(False)

    def add_language(self, name: str, vectors: torch.Tensor) -> None:
        self.words[name] = nn.Parameter(vectors, requires_grad=False)

    @torch.no_grad()
    def forward(self, sentences: torch.Tensor, lang: str = "A") -> torch.Tensor:
        """(B, L) word ids -> (B, dim) unit vectors."""
        # phi = normalise(out(mean_t tanh(mix(E[w_t] * P_t)))). Each word's term depends only on
        # (word, position) and `out` is linear, so tabulate out.weight @ tanh(...) once per call and
        # gather: the same function as embedding word by word, much faster to query.
        table = torch.tanh(self.mix(self.words[lang][:, None, :] * self.pos[None])) @ self.out.weight.T  # (V, L, dim)
        per_word = table[sentences, torch.arange(sentences.shape[1])]  # (B, L, dim)
        return F.normalize(per_word.mean(dim=1) + self.out.bias, dim=-1)


class MarkovLanguage:
    """Sentences from a random sparse Markov chain over `vocab` words."""

    def __init__(self, vocab: int, length: int, gen: torch.Generator):
        self.length, self.gen = length, gen
        alpha = torch.full((vocab,), 0.2)
        self.trans = torch.distributions.Dirichlet(alpha).sample((vocab,))  # (V, V) next-word probabilities
        self.first = torch.distributions.Dirichlet(alpha).sample()

    def sample(self, n: int) -> torch.Tensor:
        s = torch.empty(n, self.length, dtype=torch.long)
        s[:, 0] = torch.multinomial(self.first, n, replacement=True, generator=self.gen)
        for t in range(1, self.length):
            s[:, t] = torch.multinomial(self.trans[s[:, t - 1]], 1, generator=self.gen).squeeze(1)
        return s


Embed = Callable[..., torch.Tensor]
"""An embedding service: (B, L) word ids (and optionally a language name) -> (B, dim) vectors."""


# --- core ---
def train_inverter(embed: Embed, dim: int, language: MarkovLanguage, vocab: int, steps: int) -> nn.Module:
    """One-shot inverter psi: e (dim) -> logits (L, V), fitted on public sentences the attacker embeds.

    `embed` is whatever the attacker can query: the encoder, or a defended service
    (`mi_ref.embedding_defenses`)."""
    length = language.length
    inverter = nn.Sequential(nn.Linear(dim, 256), nn.ReLU(), nn.Linear(256, length * vocab))
    opt = torch.optim.Adam(inverter.parameters(), lr=2e-3)
    for _ in range(steps):
        words = language.sample(128)  # fresh public text every step: the attacker can embed at will
        logits = inverter(embed(words)).view(-1, vocab)  # (128 * L, V)
        opt.zero_grad()
        F.cross_entropy(logits, words.view(-1)).backward()
        opt.step()
    return inverter


def train_bag_of_words(encoder: ToyEncoder, language: MarkovLanguage, vocab: int, steps: int) -> nn.Module:
    """Song & Raghunathan's inverter: e (dim) -> one logit per word, 'is this word in the sentence?'."""
    inverter = nn.Sequential(nn.Linear(encoder.out.out_features, 256), nn.ReLU(), nn.Linear(256, vocab))
    opt = torch.optim.Adam(inverter.parameters(), lr=2e-3)
    for _ in range(steps):
        words = language.sample(128)
        present = torch.zeros(len(words), vocab).scatter_(1, words, 1.0)  # (128, V) multi-hot
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(inverter(encoder(words)), present).backward()
        opt.step()
    return inverter


@torch.no_grad()
def correct(
    encoder: Embed, target: torch.Tensor, guess: torch.Tensor, vocab: int, lang: str, beam: int, rounds: int
) -> torch.Tensor:
    """Beam search over single-word edits of the guess, scored by cos(phi(h), e) after re-embedding."""
    length = guess.shape[0]
    positions = torch.arange(length).repeat_interleave(vocab)  # (L*V,): edit position of each candidate
    words = torch.arange(vocab).repeat(length)  # (L*V,): new word of each candidate
    hyps = guess[None]
    best_h, best_sim = guess, float(encoder(hyps, lang) @ target)
    for _ in range(rounds):
        cands = hyps.repeat_interleave(length * vocab, dim=0)  # (beam*L*V, L)
        cands[torch.arange(len(cands)), positions.repeat(len(hyps))] = words.repeat(len(hyps))
        # Drop duplicate hypotheses (many edits lead to the same sentence): key = the words in base V.
        keys = (cands * vocab ** torch.arange(length - 1, -1, -1)).sum(dim=1)  # (C,) int64, exact for V^L < 2^63
        _, inverse = torch.unique(keys, return_inverse=True)
        first = torch.full((int(inverse.max()) + 1,), len(cands)).scatter_reduce(
            0, inverse, torch.arange(len(cands)), "amin"
        )
        cands = cands[first]
        sims = encoder(cands, lang) @ target  # re-embed every edited hypothesis
        top = sims.topk(min(beam, len(cands)))
        if float(top.values[0]) <= best_sim + 1e-7:
            break  # no single edit brings phi(h) closer to e
        best_sim, best_h, hyps = float(top.values[0]), cands[top.indices[0]], cands[top.indices]
    return best_h


# --- end core ---


def scores(pred: torch.Tensor, true: torch.Tensor) -> dict[str, float]:
    """Mean token F1 and exact match of predicted sentences (N, L) against the true ones."""
    return {
        "token-f1": float(np.mean([metrics.token_f1(p.tolist(), t.tolist()) for p, t in zip(pred, true)])),
        "exact-match": float(np.mean([metrics.exact_match(p.tolist(), t.tolist()) for p, t in zip(pred, true)])),
    }


def run(cfg: Config) -> Result:
    seed_everything(cfg.seed)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(cfg.seed)
    encoder = ToyEncoder(cfg.vocab, cfg.length, cfg.dim)
    lang_a = MarkovLanguage(cfg.vocab, cfg.length, gen)
    private = lang_a.sample(cfg.n_targets)
    target = encoder(private)  # (N, dim): what leaked

    inverter = train_inverter(encoder, cfg.dim, lang_a, cfg.vocab, cfg.inverter_steps)
    with torch.no_grad():
        guess = inverter(target).view(-1, cfg.length, cfg.vocab).argmax(-1)  # (N, L)

    def correct_all(start: torch.Tensor, emb: torch.Tensor, lang: str) -> torch.Tensor:
        return torch.stack([correct(encoder, e, h, cfg.vocab, lang, cfg.beam, cfg.rounds) for e, h in zip(emb, start)])

    bag_net = train_bag_of_words(encoder, lang_a, cfg.vocab, cfg.inverter_steps)
    with torch.no_grad():
        bag_probs = torch.sigmoid(bag_net(target))  # (N, V)
    bags = [
        (torch.nonzero(p > 0.5).flatten() if bool((p > 0.5).any()) else p.argmax()[None]).tolist() for p in bag_probs
    ]
    bag_f1 = float(np.mean([metrics.token_f1(b, t.tolist()) for b, t in zip(bags, private)]))

    corrected = correct_all(guess, target, "A")
    from_random = correct_all(torch.randint(cfg.vocab, private.shape, generator=gen), target, "A")
    # Frequency baseline: the L most frequent public words, as a bag (order by frequency).
    counts = Counter(lang_a.sample(2000).flatten().tolist())
    frequent = torch.tensor([w for w, _ in counts.most_common(cfg.length)])
    frequent = torch.cat([frequent, frequent[:1].repeat(cfg.length - len(frequent))])

    # Language B: a word-for-word translation of A (permutation `dictionary`: A word -> B word).
    dictionary = torch.randperm(cfg.vocab, generator=gen)
    inverse = torch.argsort(dictionary)  # B word -> A word
    private_b = dictionary[private]
    multilingual = {}
    for name, vectors in {
        "aligned": encoder.words["A"][inverse]
        + cfg.alignment_noise * torch.randn(cfg.vocab, encoder.pos.shape[1], generator=gen),
        "unaligned": torch.randn(cfg.vocab, encoder.pos.shape[1], generator=gen),
    }.items():
        encoder.add_language(name, vectors)
        emb_b = encoder(private_b, name)
        with torch.no_grad():  # the A-only inverter's guess, translated word by word into B
            guess_b = dictionary[inverter(emb_b).view(-1, cfg.length, cfg.vocab).argmax(-1)]
        one_shot = scores(guess_b, private_b)
        fixed = scores(correct_all(guess_b, emb_b, name), private_b)
        multilingual[name] = {
            "one_shot_token_f1": one_shot["token-f1"],
            "one_shot_exact_match": one_shot["exact-match"],
            "corrected_token_f1": fixed["token-f1"],
            "corrected_exact_match": fixed["exact-match"],
        }

    return Result(
        metrics=scores(corrected, private),
        baselines={
            "one-shot inverter alone": scores(guess, private),
            "bag-of-words inverter": {"token-f1": bag_f1},
            "frequent words": scores(frequent.expand_as(private), private),
            "correction from a random start": scores(from_random, private),
        },
        extra={"language_b": multilingual, "alignment_noise": cfg.alignment_noise},
    )


def main(argv: list[str] | None = None) -> int:
    return cli(Config, run, argv=argv, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
