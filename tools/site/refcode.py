"""The mi_ref reference implementations as the site sees them, read statically with `ast`.

The site never imports mi_ref (that would need PyTorch): it reads each module's docstring, its
`PAPERS` tuple and the source between `# --- core ---` and `# --- end core ---`, so the page shows the
code as it is in the file and cannot go stale. Reference results, when a run has written
mi_ref/results/<module>*.json, are read here too (`reference_results`).
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
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
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
    return {p.stem: read_module(p) for p in sorted(folder.glob("*.py"))
            if p.stem not in NOT_A_FAMILY and not p.stem.startswith(("_", "bench", "test"))}


@dataclass
class ResultTable:
    name: str  # file name
    baselines: list[str]
    rows: list[tuple[str, str, list[str]]]  # (metric, value, baseline values)
    extra: list[tuple[str, str]]


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def reference_results(root: Path, module: str) -> list[ResultTable]:
    """Tables from mi_ref/results/<module>.json and <module>-*.json, if that folder exists.

    The files are what mi_ref's CLI writes with --out: {"metrics": {id: value}, "baselines": {name:
    {id: value}}, "extra": {...}}. Scalars outside those keys are shown as extra facts; other shapes
    are skipped rather than guessed at.
    """
    folder = root / "mi_ref" / "results"
    if not folder.is_dir():
        return []
    tables = []
    for path in sorted(folder.glob(f"{module}*.json")):
        if path.stem != module and not path.stem.startswith(module + "-"):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModuleError(f"{path}: cannot read reference results ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
            continue
        baselines = data.get("baselines") if isinstance(data.get("baselines"), dict) else {}
        names = [b for b, v in baselines.items() if isinstance(v, dict)]
        rows = [(metric, _fmt(value), [_fmt(baselines[b].get(metric, "")) for b in names])
                for metric, value in data["metrics"].items()]
        extra_src = data.get("extra") if isinstance(data.get("extra"), dict) else {}
        extra = [(k, _fmt(v)) for k, v in extra_src.items() if isinstance(v, (int, float, str, bool))]
        tables.append(ResultTable(path.name, names, rows, extra))
    return tables
