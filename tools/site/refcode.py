"""The mi_ref reference implementations as the site sees them, read statically with `ast`.

The site never imports mi_ref (that would need PyTorch): it reads each module's docstring, its
`PAPERS` tuple and the source between `# --- core ---` and `# --- end core ---`, so the page shows the
code as it is in the file and cannot go stale. The reference results (mi_ref/results/matrix.json,
written by `python -m mi_ref.bench`) are read here too, when the file exists.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

# Shared plumbing, not a method family: no page of their own.
NOT_A_FAMILY = {"__init__", "__main__", "harness", "metrics", "bench"}
CORE_START = re.compile(r"^\s*# --- core ---\s*$")
CORE_END = re.compile(r"^\s*# --- end core ---\s*$")


class ModuleError(ValueError):
    """A module the site cannot read; the message names the file and the fix."""


@dataclass
class Module:
    name: str  # e.g. "gradient_inversion"
    path: Path
    docstring: str
    papers: tuple[str, ...]
    core: list[str] = field(default_factory=list)  # one string per core region

    @property
    def summary(self) -> str:
        return self.docstring.strip().splitlines()[0] if self.docstring.strip() else ""


def _papers(tree: ast.Module, path: Path) -> tuple[str, ...]:
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "PAPERS" for t in targets) and node.value is not None:
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                raise ModuleError(f"{path}: PAPERS must be a literal tuple of paper IDs") from None
            if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
                raise ModuleError(f"{path}: PAPERS must be a tuple of paper ID strings")
            return tuple(value)
    return ()


def _core_regions(source: str, path: Path) -> list[str]:
    regions, current = [], None
    for number, line in enumerate(source.splitlines(), 1):
        if CORE_START.match(line):
            if current is not None:
                raise ModuleError(f"{path}:{number}: '# --- core ---' inside an open core region; close the first one")
            current = []
        elif CORE_END.match(line):
            if current is None:
                raise ModuleError(f"{path}:{number}: '# --- end core ---' without a '# --- core ---' before it")
            regions.append("\n".join(current).strip("\n"))
            current = None
        elif current is not None:
            current.append(line)
    if current is not None:
        raise ModuleError(f"{path}: '# --- core ---' is never closed; add '# --- end core ---'")
    return regions


def read_module(path: Path) -> Module:
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise ModuleError(f"{path}:{exc.lineno}: not valid Python ({exc.msg})") from None
    return Module(path.stem, path, ast.get_docstring(tree) or "", _papers(tree, path), _core_regions(source, path))


def read_modules(root: Path) -> dict[str, Module]:
    """name -> Module for every method-family module in root/mi_ref."""
    folder = root / "mi_ref"
    if not folder.is_dir():
        return {}
    return {
        p.stem: read_module(p)
        for p in sorted(folder.glob("*.py"))
        if p.stem not in NOT_A_FAMILY and not p.stem.startswith(("_", "bench", "test"))
    }


# The reference results: the attack x defense matrix written by `python -m mi_ref.bench` (its shape is
# documented in mi_ref/results/README.md), and reconstruction grids named after their module.
RESULTS = Path("mi_ref") / "results"
MATRIX_VERSION = 1
CELL_KEYS = ("attack", "attack_module", "defense", "setting", "defense_module", "metric", "value", "undefended")


def matrix_cells(root: Path) -> list[dict]:
    """Every cell of mi_ref/results/matrix.json, or [] when there is no such file yet."""
    path = root / RESULTS / "matrix.json"
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModuleError(
            f"{path}: cannot read the reference results ({exc}); rerun `python -m mi_ref.bench`"
        ) from None
    version = data.get("format_version") if isinstance(data, dict) else None
    if version != MATRIX_VERSION:
        raise ModuleError(
            f"{path}: format_version {version!r} is not {MATRIX_VERSION}; update tools/site/refcode.py to the new shape"
        )
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise ModuleError(f"{path}: 'cells' must be a list")
    for i, cell in enumerate(cells):
        missing = [k for k in CELL_KEYS if not isinstance(cell, dict) or k not in cell]
        if missing:
            raise ModuleError(f"{path}: cells[{i}] lacks {', '.join(missing)}; rerun `python -m mi_ref.bench`")
    return cells


def reference_results(root: Path, module: str) -> list[dict]:
    """The matrix cells in which mi_ref.<module> is the attack or the defense."""
    name = f"mi_ref.{module}"
    return [c for c in matrix_cells(root) if name in (c["attack_module"], c["defense_module"])]


def result_images(root: Path) -> dict[str, Path]:
    """module name -> its reconstruction grid (mi_ref/results/<module>.png)."""
    folder = root / RESULTS
    return {p.stem: p for p in sorted(folder.glob("*.png"))} if folder.is_dir() else {}


def fmt(value) -> str:
    """A result for a table: three significant digits, '' for a missing value."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
