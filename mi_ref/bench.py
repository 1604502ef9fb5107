"""The attack x defense matrix: every defense module run against the attacks that apply to it.

`python -m mi_ref.bench` runs each defense module of `mi_ref/` at its default settings, turns its
result into one *cell* per (attack, defense setting) pair, prints the matrix and writes it to
`mi_ref/results/matrix.json`, the file the site's "Reference results" section renders (its shape
is documented in `mi_ref/results/README.md`). Each cell holds both sides of the trade-off: the
attack's success with the defense and without it (same world, same attacker), and the utility
kept (test or retrieval accuracy) with and without it.

`--quick` runs only the faster modules (the subset CI re-runs: `tests/test_mi_ref_bench.py`
compares it with the committed matrix within `TOLERANCE`) and writes nothing under `mi_ref/`;
`--out DIR` also writes each module's reconstruction grid as a PNG and the matrix JSON into DIR.

Every figure comes from running the code; nothing here is typed in by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import json
import math
import sys
import time
from pathlib import Path

from mi_ref.harness import Result, save_grid

PAPERS: tuple[str, ...] = ()  # the matrix implements no paper; each cell names its own

RESULTS = Path(__file__).resolve().parent / "results" / "matrix.json"
REGENERATE = "python -m mi_ref.bench"
FORMAT_VERSION = 1

# Defense modules in matrix order; QUICK is the subset CI re-runs (the faster ones).
MODULES = (
    "gradient_defenses",
    "dp",
    "secure_aggregation",
    "architecture_defenses",
    "feature_defenses",
    "regularisers",
    "output_defenses",
    "embedding_defenses",
)
QUICK = ("gradient_defenses", "secure_aggregation", "architecture_defenses", "output_defenses")

TOLERANCE = {"psnr": 3.0, "default": 0.05}
"""How far a re-run may drift from the committed matrix: 3 dB for PSNR, 0.05 for accuracies, F1,
exact match and utilities. Runs are seeded and deterministic on one machine; the slack absorbs
float differences between CPUs and torch builds, which L-BFGS and Adam can amplify a little."""

# Attack modules and the name each cell shows; papers come from each module's PAPERS.
ATTACKS = {
    "dlg": ("DLG (label known)", "gradient_inversion"),
    "dlg-sum": ("DLG on the aggregate (labels known)", "gradient_inversion"),
    "analytic": ("Analytic first-layer inversion", "analytic_gradient"),
    "mi-face": ("MI-Face", "optimisation"),
    "gmi": ("GMI (generative prior)", "generative_prior"),
    "activation": ("Activation inversion (best of white-box, inverse network)", "activation_inversion"),
    "training-based": ("Training-based decoder (or label fallback)", "training_based"),
    "embedding": ("One-shot inverter + re-embedding correction", "embedding_inversion"),
}


@functools.cache
def default_result(module: str) -> Result:
    """`mi_ref.<module>.run(Config())`, computed once per process (tests and the bench share it)."""
    mod = importlib.import_module(f"mi_ref.{module}")
    return mod.run(mod.Config())


def _module_papers(module: str) -> list[str]:
    return list(importlib.import_module(f"mi_ref.{module}").PAPERS)


def cell(
    attack: str, module: str, defense: str, setting: str, papers: tuple[str, ...], metric: str, value: float,
    undefended: float, utility_metric: str | None = None, utility: float | None = None,
    utility_undefended: float | None = None, attacker: str = "defense-aware", **secondary: float,
) -> dict:  # fmt: skip
    """One matrix cell; `papers` must be among the defense module's PAPERS (checked by the tests)."""
    name, attack_module = ATTACKS[attack]
    return {
        "attack": name,
        "attack_module": f"mi_ref.{attack_module}",
        "attack_papers": _module_papers(attack_module),
        "attacker": attacker,
        "defense": defense,
        "setting": setting,
        "defense_module": f"mi_ref.{module}",
        "defense_papers": list(papers),
        "metric": metric,
        "value": value,
        "undefended": undefended,
        "utility_metric": utility_metric,
        "utility": utility,
        "utility_undefended": utility_undefended,
        "secondary": secondary,
    }


def split_rows(rows: dict[str, dict], undefended: str) -> tuple[dict, dict[str, dict]]:
    """A module's per-setting table as (its `undefended` row, the defended rows in order)."""
    return rows[undefended], {name: row for name, row in rows.items() if name != undefended}


# One function per module: its Result -> cells. Row names are the module's own.
def cells_gradient_defenses(r: Result) -> list[dict]:
    acc = r.extra["test_acc"]
    out = []
    for name, base in r.baselines.items():
        if name == "public mean digit":
            continue
        attacker = name.split("(")[1].removesuffix(" attacker)") if "(" in name else "defense-aware"
        setting = name.split(" (")[0]
        if name.startswith("noise"):
            defense, papers = "Gaussian gradient noise", ()
        elif name.startswith("top-k"):
            defense, papers = "Top-k gradient sparsification", ("lin2018dgc",)
        elif name.startswith("quantise"):
            defense, papers = "Gradient quantisation", ()
        else:
            defense, papers = "Soteria (representation pruning)", ("sun2021soteria",)
        out.append(
            cell("dlg", "gradient_defenses", defense, setting, papers, "psnr", base["psnr"], r.metrics["psnr"],
                 "test-acc", acc[name], acc["none"], attacker=attacker)
        )  # fmt: skip
    return out


def cells_dp(r: Result) -> list[dict]:
    base, sgd = split_rows(r.extra["dp_sgd"], "non-private")
    fl = r.extra["federated"]
    out = [
        cell("mi-face", "dp", "DP-SGD (opacus)", name, ("abadi2016dpsgd", "park2019attackbased"), "attack-acc-top1",
             row["attack-acc-top1"], base["attack-acc-top1"], "test-acc", row["test-acc"], base["test-acc"])
        for name, row in sgd.items()
    ]  # fmt: skip
    out += [
        cell("dlg", "dp", "Per-example clipping + noise (FL)", name, ("wei2021fedcdp",), "psnr", row["psnr"],
             r.metrics["psnr"], "test-acc", row["test-acc"], None, attacker="clipping-aware")
        for name, row in fl.items()
    ]  # fmt: skip
    return out


def cells_secure_aggregation(r: Result) -> list[dict]:
    rows = r.extra["per_clients"]
    single = rows["K=1"]["psnr"] if "K=1" in rows else r.metrics["psnr"]
    out = []
    for name, row in rows.items():
        if name == "K=1":
            continue
        out.append(
            cell("dlg-sum", "secure_aggregation", "Secure aggregation (pairwise masks)", f"sum of {name} clients",
                 ("bonawitz2017secagg",), "psnr", row["psnr"], single, mask_cancel_error=row["mask_cancel_error"])
        )  # fmt: skip
        out.append(
            cell("dlg", "secure_aggregation", "Secure aggregation (pairwise masks)", f"one masked update, {name}",
                 ("bonawitz2017secagg",), "psnr", row["psnr_single_masked_update"], single)
        )  # fmt: skip
    return out


def cells_architecture_defenses(r: Result) -> list[dict]:
    base_fl, pre = split_rows(r.extra["precode"], "FL, no defense")
    base_tl, tl = split_rows(r.extra["tl_dmi"], "centralised, no defense")
    out = []
    for name, row in pre.items():
        attack = "analytic" if "analytic" in name else "dlg"
        out.append(
            cell(attack, "architecture_defenses", "PRECODE (variational bottleneck)", "K=64", ("scheliga2022precode",),
                 "psnr", row["psnr"], base_fl["psnr"], "test-acc", row["test-acc"], base_fl["test-acc"],
                 attacker="naive" if "naive" in name else "defense-aware")
        )  # fmt: skip
    for name, row in tl.items():
        defense, papers = ("TL-DMI (fine-tune top layers)", ("ho2024tldmi",)) if "TL-DMI" in name else (
            "Reference: model trained without private data", ())  # fmt: skip
        out.append(
            cell("gmi", "architecture_defenses", defense, name.split(": ")[-1], papers, "attack-acc-top1",
                 row["attack-acc-top1"], base_tl["attack-acc-top1"], "test-acc", row["test-acc"], base_tl["test-acc"],
                 **{"knn-dist": row["knn-dist"], "knn-dist undefended": base_tl["knn-dist"]})
        )  # fmt: skip
    return out


def cells_feature_defenses(r: Result) -> list[dict]:
    base, rows = split_rows(r.extra["per_defense"], "none")
    out = []
    for name, row in rows.items():
        defense, papers = ("NoPeek (distance correlation)", ("vepakomma2020nopeek",)) if "NoPeek" in name else (
            "Noise on cut-layer activations", ("titcombe2021practical",))  # fmt: skip
        out.append(
            cell("activation", "feature_defenses", defense, name, papers, "psnr", row["psnr"], base["psnr"],
                 "test-acc", row["test-acc"], base["test-acc"], dcor=row["dcor"])
        )  # fmt: skip
    return out


def cells_regularisers(r: Result) -> list[dict]:
    base, rows = split_rows(r.extra["per_defense"], "none")
    families = {"MID": ("MID (VIB)", ("wang2021mid",)), "BiDO": ("BiDO-HSIC", ("peng2022bido",)),
                "LS": ("Label smoothing (negative: NLS)", ("struppek2024nls",))}  # fmt: skip
    out = []
    for name, row in rows.items():
        defense, papers = families[name.split()[0]]
        out.append(
            cell("gmi", "regularisers", defense, name, papers, "attack-acc-top1", row["attack-acc-top1"],
                 base["attack-acc-top1"], "test-acc", row["test-acc"], base["test-acc"],
                 **{"knn-dist": row["knn-dist"], "knn-dist undefended": base["knn-dist"],
                    "attack-acc-top1 (full search)": row["attack-acc-top1-full"],
                    "attack-acc-top1 (short search)": row["attack-acc-top1-short"],
                    "attack-acc-top1 (selection only)": row["attack-acc-top1-select"],
                    "attack-acc-top1 (GMI protocol: best of 5 random starts)": row["attack-acc-top1-gmi"],
                    "attack-acc-top1 (one random start)": row["attack-acc-top1-one-start"]})
        )  # fmt: skip
    return out


def cells_output_defenses(r: Result) -> list[dict]:
    base, rows = split_rows(r.extra["per_defense"], "none")
    oracle = r.baselines["label-only oracle (public class mean)"]["psnr"]
    out = []
    for name, row in rows.items():
        papers = ("ye2022oneparameter",) if name.startswith("noise") else ()
        defense = {"round": "Rounding confidences", "top": "Top-k truncation", "noise": "Label-preserving noise"}[
            name.split()[0].split("-")[0]
        ]
        out.append(
            cell("training-based", "output_defenses", defense, name, papers, "psnr", row["psnr"], base["psnr"],
                 "test-acc", row["test-acc"], base["test-acc"], **{"label-only oracle psnr": oracle})
        )  # fmt: skip
    return out


def cells_embedding_defenses(r: Result) -> list[dict]:
    base, rows = split_rows(r.extra["per_defense"], "none")
    out = []
    for name, row in rows.items():
        defense, papers = ("Learned projection (Eguard-like)", ("liu2024eguard",)) if "projection" in name else (
            "Noise on embeddings", ())  # fmt: skip
        out.append(
            cell("embedding", "embedding_defenses", defense, name, papers, "exact-match", row["exact-match"],
                 base["exact-match"], "retrieval-acc", row["retrieval_acc"], base["retrieval_acc"],
                 **{"token-f1": row["token-f1"], "token-f1 undefended": base["token-f1"]})
        )  # fmt: skip
    return out


CELLS = {m: globals()[f"cells_{m}"] for m in MODULES}

# Images per grid row: one row of targets over one row of reconstructions per defense setting.
GRID_PER_ROW = {
    "gradient_defenses": lambda cfg: cfg.n_targets,
    "dp": lambda cfg: 10 * cfg.per_class,  # one row per DP-SGD model, per_class images per class
    "architecture_defenses": lambda cfg: cfg.n_targets,
    "feature_defenses": lambda cfg: cfg.n_targets,
    "regularisers": lambda cfg: 10,  # one image per class
    "output_defenses": lambda cfg: 10,
}
COMMITTED_GRIDS = ("gradient_defenses", "feature_defenses", "regularisers")
"""Grids the full run also writes into mi_ref/results/ for the site (kept few and small)."""


# --- core ---
def build_matrix(modules: tuple[str, ...], out_dir: Path | None = None, grids_dir: Path | None = None) -> dict:
    """Run `modules` and collect their cells; write every grid into out_dir and the COMMITTED_GRIDS
    into grids_dir, when given."""
    cells, configs, seconds = [], {}, {}
    for module in modules:
        start = time.perf_counter()
        result = default_result(module)
        seconds[module] = round(time.perf_counter() - start, 1)
        mod = importlib.import_module(f"mi_ref.{module}")
        configs[f"mi_ref.{module}"] = dataclasses.asdict(mod.Config())
        cells += CELLS[module](result)
        grid_dirs = [d for d in (out_dir, grids_dir if module in COMMITTED_GRIDS else None) if d is not None]
        if result.reconstructions is not None and module in GRID_PER_ROW:
            for directory in grid_dirs:
                directory.mkdir(parents=True, exist_ok=True)
                per_row = GRID_PER_ROW[module](mod.Config())
                save_grid(result.targets, result.reconstructions, directory / f"{module}.png", per_row=per_row)
    return {
        "format_version": FORMAT_VERSION,
        "generated_by": REGENERATE,
        "quick_modules": [f"mi_ref.{m}" for m in QUICK],
        "tolerance": TOLERANCE,
        "configs": configs,
        "cells": cells,
        "_seconds": seconds,  # run time on the machine that wrote the file; not compared
    }


def _num(v: object) -> str:
    return f"{v:.3g}" if isinstance(v, float) and math.isfinite(v) else "-" if v is None else str(v)


def format_matrix(matrix: dict) -> str:
    """Plain-text table: one line per cell, attack success with/without, utility with/without."""
    header = ("defense", "setting", "attack", "attacker", "metric", "defended", "undefended", "utility", "undef. util.")
    rows = [header] + [
        (c["defense"], c["setting"], c["attack"].split(" (")[0], c["attacker"], c["metric"], _num(c["value"]),
         _num(c["undefended"]), _num(c["utility"]), _num(c["utility_undefended"]))
        for c in matrix["cells"]
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cell_key(c: dict) -> tuple[str, str, str, str, str]:
    return (c["defense_module"], c["defense"], c["setting"], c["attack"], c["attacker"])


def compare(fresh: dict, committed: dict) -> list[str]:
    """Differences beyond TOLERANCE between fresh cells and the committed ones (same keys)."""
    old = {cell_key(c): c for c in committed["cells"]}
    problems = []
    for c in fresh["cells"]:
        ref = old.get(cell_key(c))
        if ref is None:
            problems.append(f"{cell_key(c)}: not in the committed matrix")
            continue
        for field in ("value", "undefended", "utility", "utility_undefended"):
            a, b = c[field], ref[field]
            if (a is None) != (b is None):
                problems.append(f"{cell_key(c)} {field}: {b} committed, {a} now")
                continue
            tol = (
                TOLERANCE["psnr"]
                if c["metric"] == "psnr" and field in ("value", "undefended")
                else TOLERANCE["default"]
            )
            if a is not None and abs(a - b) > tol:
                problems.append(f"{cell_key(c)} {field}: {b:.4g} committed, {a:.4g} now (tolerance {tol})")
    return problems


# --- end core ---


def _json_default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()  # numpy scalars
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"run only {', '.join(QUICK)}; write nothing under mi_ref/"
    )
    parser.add_argument("--out", metavar="DIR", help="also write matrix.json and one PNG grid per module into DIR")
    args = parser.parse_args(argv)
    out_dir = Path(args.out) if args.out else None
    matrix = build_matrix(QUICK if args.quick else MODULES, out_dir, None if args.quick else RESULTS.parent)
    print(format_matrix(matrix))
    text = json.dumps(matrix, indent=1, default=_json_default) + "\n"
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
        print(f"wrote {RESULTS}")
    if out_dir is not None:
        (out_dir / "matrix.json").write_text(text, encoding="utf-8")
        print(f"wrote {out_dir / 'matrix.json'} and PNG grids", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
