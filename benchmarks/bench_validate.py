"""Validation cost versus plain parsing, on a synthetic catalogue.

Target (issue: foundation): validating N papers costs at most 3x parsing the same files with
PyYAML's C loader. Prints both times and their ratio, measured in one run on the same files.

    python benchmarks/bench_validate.py [--papers 10000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tools.catalog import load_catalog

WORDS = [
    "model",
    "inversion",
    "attack",
    "defense",
    "gradient",
    "leakage",
    "federated",
    "generative",
    "prior",
    "private",
    "data",
    "reconstruction",
    "privacy",
    "embedding",
    "text",
    "graph",
    "label",
    "only",
    "black",
    "box",
    "robust",
    "learning",
    "split",
]


def synthetic_paper(i: int, rng: random.Random) -> str:
    title = " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(6, 12))) + f" {i}"
    authors = "\n".join(f"  - Author{rng.randint(0, 999)} Family{i}x{k}" for k in range(rng.randint(2, 6)))
    return f"""# yaml-language-server: $schema=../schema/paper.schema.json
id: synth{2000 + i % 25}p{i}
title: "{title}"
authors:
{authors}
year: {2000 + i % 25}
venue: {rng.choice(["cvpr", "neurips", "ccs", "arxiv", "usenix-security"])}
doi: 10.1234/synth.{i}
arxiv: "{2000 + i % 25 - 2000:02d}{(i % 12) + 1:02d}.{i:05d}"
url: https://example.org/papers/{i}
code:
  - https://github.com/example/repo{i}
kind: attack
attack_family: [{rng.choice(["gradient-inversion", "generative-prior", "optimisation"])}]
modality: [image]
setting: [{rng.choice(["centralised", "federated", "split"])}]
knowledge: [white-box]
datasets: [celeba]
metrics: [psnr]
tldr: >-
  A synthetic paper number {i} used to measure how long validation takes compared with parsing.
added: 2026-11-28
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # The real catalogue (metric and dataset records point at real papers) plus N synthetic papers.
        shutil.copytree(REPO / "catalog", root / "catalog")
        shutil.copytree(REPO / "mi_ref", root / "mi_ref", ignore=shutil.ignore_patterns("__pycache__", "results"))
        papers = root / "catalog" / "papers"
        for i in range(args.papers):
            text = synthetic_paper(i, rng)
            pid = text.split("\nid: ", 1)[1].split("\n", 1)[0]
            (papers / f"{pid}.yaml").write_text(text, encoding="utf-8")
        files = sorted((root / "catalog").glob("*/*.yaml")) + sorted((root / "catalog").glob("*.yaml"))

        start = time.perf_counter()
        for path in files:
            yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        parse_s = time.perf_counter() - start

        start = time.perf_counter()
        cat = load_catalog(root)
        validate_s = time.perf_counter() - start

    if cat.problems:
        print(f"unexpected problems in the synthetic catalogue, first: {cat.problems[0]}")
        return 1
    print(f"papers: {len(cat.papers)}")
    print(f"parse only (PyYAML CSafeLoader): {parse_s:.2f} s")
    print(f"full validation (python -m tools validate): {validate_s:.2f} s")
    print(f"ratio validate/parse: {validate_s / parse_s:.2f} (target <= 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
