"""Shared fixtures: a minimal valid catalogue in a temporary folder, to break in controlled ways."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

VALID_PAPER = """\
id: doe2021example
title: "An Example Attack on Example Models"
authors:
  - Jane Doe
  - John Roe
year: 2021
venue: cvpr
doi: 10.1109/CVPR46437.2021.00001
arxiv: "2101.00001"
url: https://example.org/paper
code:
  - https://github.com/example/attack
kind: attack
attack_family: [generative-prior]
modality: [image]
setting: [centralised]
knowledge: [white-box]
datasets: [toyset]
metrics: [toymetric]
tldr: A made-up paper used to test the validator.
added: 2026-11-28
"""

VALID_DATASET = """\
id: toyset
name: ToySet
modality: [image]
contents: "10 images of 2 classes."
roles: [private]
url: https://example.org/toyset
"""

VALID_METRIC = """\
id: toymetric
name: ToyMetric
measures: "How toy a reconstruction is."
definition: "$t = 1$"
direction: higher
range: "[0, 1]"
"""


def write_catalog(root: Path) -> Path:
    """A valid catalogue under root: the real vocabularies plus one paper, dataset and metric."""
    cat = root / "catalog"
    for sub in ("papers", "datasets", "metrics"):
        (cat / sub).mkdir(parents=True, exist_ok=True)
    for name in ("venues.yaml", "taxonomy.yaml", "lists.yaml"):
        shutil.copy(REPO / "catalog" / name, cat / name)
    (cat / "papers" / "doe2021example.yaml").write_text(VALID_PAPER, encoding="utf-8")
    (cat / "datasets" / "toyset.yaml").write_text(VALID_DATASET, encoding="utf-8")
    (cat / "metrics" / "toymetric.yaml").write_text(VALID_METRIC, encoding="utf-8")
    return root


@pytest.fixture
def catalog_root(tmp_path: Path) -> Path:
    return write_catalog(tmp_path)
