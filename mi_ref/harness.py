"""Shared plumbing for the reference implementations: toy worlds, the `Result` type and the CLI.

Every family file in `mi_ref/` builds on three things kept here so that they exist once:

- **`digits_world(seed)`**: scikit-learn's bundled 8x8 digits (no download), split by sample into
  four disjoint parts: `private` (the target's training data, what an attacker wants back),
  `private_test` (held out from everyone, for utility numbers), `public` (the attacker's auxiliary
  data: same ten classes, other samples) and `eval_train` (trains the evaluation model). The world
  holds a target classifier trained on `private` and an evaluation classifier of another
  architecture trained on `eval_train`; the evaluation model judges attacks and is never attacked.
  Trained weights are cached under `.cache/mi_ref/` (git-ignored; `MI_REF_CACHE` overrides) so a
  second run does not retrain.
- **`Result`**: metrics keyed by catalogue metric IDs, the same metrics for each baseline, and the
  images (targets beside reconstructions) for a picture.
- **`cli(Config, run)`**: an argparse CLI built from a frozen `Config` dataclass, printing the
  metrics beside their baselines and, with `--out DIR`, writing `grid.png` and `results.json`.

Images are float arrays in [0, 1] of shape (N, 8, 8); every classifier here takes that shape.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import inspect
import itertools
import json
import math
import os
import random
import sys
import textwrap
import typing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from torch import nn
from torch.nn import functional as F

# Bump when the split or training recipe changes, so stale cached weights are never reused.
CACHE_VERSION = 2
ARCHITECTURES = ("softmax", "mlp", "bn-cnn")
IMAGE_SHAPE = (8, 8)
NUM_CLASSES = 10


@dataclass(frozen=True)
class Result:
    """What every `run(cfg)` returns."""

    metrics: dict[str, float]
    """The attack's (or defense's) figures, keyed by catalogue metric ID, e.g. "psnr"."""
    baselines: dict[str, dict[str, float]]
    """Baseline name -> its figures on the same metric IDs, computed on the same world."""
    targets: np.ndarray | None = None
    """The images the attack tries to recover, (N, H, W) in [0, 1]; None when there are none."""
    reconstructions: np.ndarray | None = None
    """What the attack produced, (N, H, W) in [0, 1], row-aligned with `targets`."""
    extra: dict = field(default_factory=dict)
    """Anything else worth printing (utility numbers, model accuracies); JSON-serialisable."""


@contextlib.contextmanager
def one_thread() -> typing.Iterator[None]:
    """Train on one CPU thread, then restore the thread count.

    The same weights whatever the machine's thread count (so a cache filled anywhere agrees with a
    fresh run), and faster for models this small on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch so a run is repeatable."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------------------------
# Classifiers. All take images (N, 8, 8) in [0, 1]; `features` is the penultimate representation
# (used by the KNN-distance metric), `forward` returns logits (N, 10).
# ---------------------------------------------------------------------------------------------


class Classifier(nn.Module):
    """A digits classifier split into `body` (features) and `head` (logits)."""

    def __init__(self, arch: str):
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
        self.arch = arch
        if arch == "softmax":
            # Multinomial logistic regression: features are the raw pixels, (N, 64).
            self.body = nn.Flatten()
            self.head = nn.Linear(64, NUM_CLASSES)
        elif arch == "mlp":
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
            self.head = nn.Linear(64, NUM_CLASSES)
        else:  # bn-cnn: batch-norm layers carry the training statistics DeepInversion matches
            self.body = nn.Sequential(
                nn.Unflatten(1, (1, 8)),  # (N, 8, 8) -> (N, 1, 8, 8)
                nn.Conv2d(1, 16, 3, padding=1),
                nn.BatchNorm2d(16),
                nn.ReLU(),
                nn.Conv2d(16, 32, 3, padding=1, stride=2),
                nn.BatchNorm2d(32),
                nn.ReLU(),  # (N, 32, 4, 4)
                nn.Flatten(),
                nn.Linear(32 * 16, 64),
                nn.ReLU(),
            )
            self.head = nn.Linear(64, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_classifier(
    arch: str, x: np.ndarray, y: np.ndarray, seed: int, epochs: int = 60, start: Classifier | None = None
) -> Classifier:
    """Train a classifier with Adam on mini-batches; deterministic for a given seed.

    `start`: fine-tune this (pre-trained) model instead of a fresh `arch` one; only its parameters
    that still require grad are updated, so freeze the others first (TL-DMI in
    `mi_ref.architecture_defenses`)."""
    with one_thread():
        return _train(arch, x, y, seed, epochs, start)


def _train(arch: str, x: np.ndarray, y: np.ndarray, seed: int, epochs: int, start: Classifier | None) -> Classifier:
    gen = torch.Generator().manual_seed(seed)
    if start is None:
        torch.manual_seed(seed)  # the fresh model's initialisation
    model = start if start is not None else Classifier(arch)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trainable, lr=3e-3, weight_decay=1e-4)
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=gen).split(64):
            opt.zero_grad()
            F.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    return model.eval()


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of `model` on images x (N, 8, 8) with labels y (N,)."""
    with torch.no_grad():
        pred = model(torch.tensor(x, dtype=torch.float32)).argmax(1).numpy()
    return float((pred == y).mean())


def cache_dir() -> Path:
    """Where trained toy models are kept: $MI_REF_CACHE or <repo>/.cache/mi_ref."""
    env = os.environ.get("MI_REF_CACHE")
    return Path(env) if env else Path(__file__).resolve().parent.parent / ".cache" / "mi_ref"


def cached_classifier(name: str, arch: str, x: np.ndarray, y: np.ndarray, seed: int) -> Classifier:
    """Load `name` from the cache, or train it and store it."""
    path = cache_dir() / f"v{CACHE_VERSION}-{name}-{arch}-seed{seed}.pt"
    return cached_model(path, Classifier(arch), lambda: train_classifier(arch, x, y, seed))


Model = typing.TypeVar("Model", bound=nn.Module)


def cached_model(path: Path, model: Model, train: typing.Callable[[], Model]) -> Model:
    """`model` with the weights stored at `path` (in eval mode), or else `train()`'s model, then
    stored at `path` (atomically, so parallel runs are safe)."""
    if path.exists():
        try:
            model.load_state_dict(torch.load(path, weights_only=True))
            return model.eval()
        except (RuntimeError, OSError, EOFError):
            pass  # a corrupt or foreign file: retrain and overwrite it
    model = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    return model


@dataclass(frozen=True)
class DigitsWorld:
    """Four disjoint splits of the digits, a target model and an evaluation model."""

    seed: int
    x_private: np.ndarray
    y_private: np.ndarray
    x_private_test: np.ndarray
    y_private_test: np.ndarray
    x_public: np.ndarray
    y_public: np.ndarray
    x_eval_train: np.ndarray
    y_eval_train: np.ndarray
    target: Classifier
    """Trained on the private split only; the model under attack."""
    evaluator: Classifier
    """Trained on eval_train only, another architecture; judges attacks, never attacked."""

    def public_class_means(self) -> np.ndarray:
        """Mean public image per class, (10, 8, 8): the 'label-only oracle' baseline image."""
        return np.stack([self.x_public[self.y_public == c].mean(0) for c in range(NUM_CLASSES)])


def digits_split(seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Split the 1797 digits by sample, stratified by class: 40% private, 15% private-test,
    30% public, 15% eval-train. Pixels are scaled from 0..16 to [0, 1]."""
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)  # (1797, 8, 8)
    y = data.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("private", "private_test", "public", "eval_train")}
    for c in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(y == c))
        cuts = np.round(np.cumsum([0.40, 0.15, 0.30]) * len(idx)).astype(int)
        for name, chunk in zip(parts, np.split(idx, cuts)):
            parts[name].append(chunk)
    out = {}
    for name, chunks in parts.items():
        idx = rng.permutation(np.concatenate(chunks))
        out[name] = (x[idx], y[idx])
    return out


def digits_world(seed: int = 0, target_arch: str = "mlp", evaluator_arch: str = "bn-cnn") -> DigitsWorld:
    """The digits world for `seed`; trained models come from the cache when present."""
    if target_arch not in ARCHITECTURES or evaluator_arch not in ARCHITECTURES:
        raise ValueError(f"architectures must be among {', '.join(ARCHITECTURES)}")
    split = digits_split(seed)
    target = cached_classifier("target", target_arch, *split["private"], seed=seed)
    # The evaluator's seed differs from the target's so even equal architectures would differ.
    evaluator = cached_classifier("evaluator", evaluator_arch, *split["eval_train"], seed=seed + 1000)
    return DigitsWorld(
        seed,
        *split["private"],
        *split["private_test"],
        *split["public"],
        *split["eval_train"],
        target=target,
        evaluator=evaluator,
    )


# ---------------------------------------------------------------------------------------------
# Output: a table, a picture, a JSON file, and the CLI around them.
# ---------------------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def format_result(result: Result) -> str:
    """A plain-text table: one row per metric ID, the attack's column then one per baseline."""
    columns = ["attack", *result.baselines]
    ids = list(result.metrics) + [m for b in result.baselines.values() for m in b if m not in result.metrics]
    ids = list(dict.fromkeys(ids))
    rows = [["metric", *columns]]
    for mid in ids:
        row = [mid, _fmt(result.metrics.get(mid, "-"))]
        row += [_fmt(result.baselines[b].get(mid, "-")) for b in result.baselines]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for key, value in result.extra.items():
        lines.append(f"{key}: {_fmt(value)}")
    return "\n".join(lines)


def save_grid(
    targets: np.ndarray | None, reconstructions: np.ndarray, path: str | Path, scale: int = 8, per_row: int = 10
) -> Path:
    """Write a PNG: for each block of `per_row` images, a row of targets above a row of
    reconstructions (targets may be None, e.g. for data-free synthesis). Values are clipped to [0, 1]."""
    recon = np.clip(np.asarray(reconstructions, dtype=np.float32), 0, 1)
    if recon.ndim != 3:
        raise ValueError(f"reconstructions must have shape (N, H, W), got {recon.shape}")
    tgt = None if targets is None else np.clip(np.asarray(targets, dtype=np.float32), 0, 1)
    if tgt is not None and tgt.shape != recon.shape:
        raise ValueError(f"targets {tgt.shape} and reconstructions {recon.shape} must have the same shape")
    n, h, w = recon.shape
    pad = 1
    rows_per_block = 1 if tgt is None else 2
    blocks = max(1, math.ceil(n / per_row))
    canvas = np.full((blocks * rows_per_block * (h + pad) + pad, min(n, per_row) * (w + pad) + pad), 0.5, np.float32)
    for i in range(n):
        block, col = divmod(i, per_row)
        x0 = pad + col * (w + pad)
        for r, img in enumerate([recon[i]] if tgt is None else [tgt[i], recon[i]]):
            y0 = pad + (block * rows_per_block + r) * (h + pad)
            canvas[y0 : y0 + h, x0 : x0 + w] = img
    image = Image.fromarray((canvas * 255).round().astype(np.uint8), mode="L")
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    path = Path(path)
    image.save(path)
    return path


def _field_docs(config_cls: type) -> dict[str, str]:
    """The docstring written under each dataclass field (read from the source; not kept at runtime)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(config_cls)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for stmt, nxt in itertools.pairwise(body):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[stmt.target.id] = " ".join(nxt.value.value.split())
    return docs


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return _json_safe(value.item())
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def cli(config_cls: type, run: typing.Callable, argv: list[str] | None = None, doc: str | None = None) -> int:
    """Parse `--field value` options for each field of `config_cls`, run, print, optionally save.

    Returns the exit code: 0 on success, 2 when the settings are rejected (one line on stderr)."""
    hints = typing.get_type_hints(config_cls)
    docs = _field_docs(config_cls)
    summary = (doc or config_cls.__doc__ or "").strip().splitlines()
    parser = argparse.ArgumentParser(description=summary[0] if summary else None)
    for f in dataclasses.fields(config_cls):
        kind = hints[f.name]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        help_text = f"{docs.get(f.name, '')} (default: {default})".strip()
        flag = "--" + f.name.replace("_", "-")
        if kind is bool:
            parser.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default, help=help_text
            )
        elif kind in (int, float, str):
            parser.add_argument(flag, dest=f.name, type=kind, default=default, help=help_text)
        else:
            raise TypeError(f"{config_cls.__name__}.{f.name}: the CLI supports int, float, str and bool fields")
    parser.add_argument("--out", metavar="DIR", help="write grid.png and results.json into DIR")
    args = vars(parser.parse_args(argv))
    out = args.pop("out")
    try:
        cfg = config_cls(**args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = run(cfg)
    print(format_result(result))
    if out:
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        if result.reconstructions is not None:
            print(f"wrote {save_grid(result.targets, result.reconstructions, out_dir / 'grid.png')}")
        payload = {
            "config": dataclasses.asdict(cfg),
            "metrics": result.metrics,
            "baselines": result.baselines,
            "extra": result.extra,
        }
        (out_dir / "results.json").write_text(json.dumps(_json_safe(payload), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out_dir / 'results.json'}")
    return 0
