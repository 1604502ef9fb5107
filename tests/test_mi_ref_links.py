"""mi_ref modules <-> catalogue papers: each module's PAPERS name it back, and each paper's
`implementation` module lists the paper. Modules are read statically (ast), never imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
PAPERS_DIR = REPO / "catalog" / "papers"
NOT_FAMILIES = {"__init__", "harness", "metrics"}


def module_papers(path: Path) -> tuple[str, ...] | None:
    """The module-level `PAPERS = (...)` tuple of string literals, or None when absent."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "PAPERS" for t in targets):
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple) and all(isinstance(v, str) for v in value), (
                f"{path.relative_to(REPO)}: PAPERS must be a tuple of catalogue paper IDs"
            )
            return value
    return None


def paper_implementation(paper_id: str) -> str | None:
    data = yaml.safe_load((PAPERS_DIR / f"{paper_id}.yaml").read_text(encoding="utf-8")) or {}
    return data.get("implementation")


MODULES = sorted(p.stem for p in (REPO / "mi_ref").glob("*.py") if p.stem not in NOT_FAMILIES)
IMPLEMENTED = sorted(p.stem for p in PAPERS_DIR.glob("*.yaml") if paper_implementation(p.stem))


@pytest.mark.parametrize("module", MODULES)
def test_module_papers_exist_and_name_the_module(module: str) -> None:
    papers = module_papers(REPO / "mi_ref" / f"{module}.py")
    # PAPERS = () is allowed for a module that implements no paper (e.g. a benchmark runner), but
    # it must be said explicitly: a family that forgets PAPERS fails here.
    assert papers is not None, f"mi_ref/{module}.py: define PAPERS = (...) with the catalogue IDs it implements"
    for paper in papers:
        path = PAPERS_DIR / f"{paper}.yaml"
        assert path.exists(), f"mi_ref/{module}.py: PAPERS names {paper!r}, but catalog/papers/{paper}.yaml is missing"
        assert paper_implementation(paper) == f"mi_ref.{module}", (
            f"catalog/papers/{paper}.yaml: add 'implementation: mi_ref.{module}'"
        )


@pytest.mark.parametrize("paper", IMPLEMENTED)
def test_paper_implementation_lists_the_paper(paper: str) -> None:
    impl = paper_implementation(paper)
    module = impl.split(".", 1)[1]
    path = REPO / "mi_ref" / f"{module}.py"
    assert path.exists(), f"catalog/papers/{paper}.yaml: implementation {impl!r} has no mi_ref/{module}.py"
    assert paper in (module_papers(path) or ()), f"mi_ref/{module}.py: add {paper!r} to PAPERS"
