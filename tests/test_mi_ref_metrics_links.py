"""mi_ref.metrics <-> catalogue metric pages: each function names its page and the page names it back."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import yaml

from mi_ref import metrics

REPO = Path(__file__).resolve().parent.parent
METRICS_DIR = REPO / "catalog" / "metrics"
PAGE = re.compile(r"^Catalogue: catalog/metrics/([a-z0-9-]+)\.yaml$")


def metric_functions() -> dict[str, object]:
    """Public functions defined in mi_ref/metrics.py itself (not imported ones)."""
    return {
        name: fn
        for name, fn in inspect.getmembers(metrics, inspect.isfunction)
        if not name.startswith("_") and fn.__module__ == metrics.__name__
    }


def implementation_of(path: Path) -> str | None:
    """The `implementation:` value of a metric YAML."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data.get("implementation")


@pytest.mark.parametrize("name", sorted(metric_functions()))
def test_function_names_its_page_and_page_names_function(name: str) -> None:
    doc = inspect.getdoc(metric_functions()[name]) or ""
    first = doc.splitlines()[0] if doc else ""
    match = PAGE.match(first)
    assert match, f"mi_ref.metrics.{name}: docstring must start with 'Catalogue: catalog/metrics/<id>.yaml'"
    page = METRICS_DIR / f"{match.group(1)}.yaml"
    assert page.exists(), f"mi_ref.metrics.{name} names {page.relative_to(REPO)}, which does not exist"
    assert implementation_of(page) == f"mi_ref.metrics.{name}", (
        f"{page.relative_to(REPO)}: add 'implementation: mi_ref.metrics.{name}'"
    )


LINKED_PAGES = sorted(
    p.name for p in METRICS_DIR.glob("*.yaml") if str(implementation_of(p)).startswith("mi_ref.metrics.")
)


@pytest.mark.parametrize("page", LINKED_PAGES)
def test_page_implementation_names_function_back(page: str) -> None:
    impl = implementation_of(METRICS_DIR / page)
    name = impl.rsplit(".", 1)[1]
    fn = metric_functions().get(name)
    assert fn is not None, f"catalog/metrics/{page}: {impl} is not a function in mi_ref/metrics.py"
    first = (inspect.getdoc(fn) or "").splitlines()[0]
    assert first == f"Catalogue: catalog/metrics/{page}", f"{impl}: docstring must start with that page"


def test_core_metrics_are_linked() -> None:
    """The metrics the trained-classifier attacks report all exist and are linked."""
    for page in ("mse", "psnr", "ssim", "attack-acc-top1", "attack-acc-top5", "knn-dist"):
        assert implementation_of(METRICS_DIR / f"{page}.yaml"), f"catalog/metrics/{page}.yaml has no implementation"
