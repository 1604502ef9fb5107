"""The "Reference results" page's content: mi_ref/results/matrix.json grouped by defense family, each cell
classed by how much the defense cut the attack's success, and a utility-vs-leakage plot per family.

A family is a defense module (`defense_module`, e.g. mi_ref.gradient_defenses): one section of the page,
one plot, one reconstruction grid. Pure functions of the cells and the catalogue; pages.py renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tools.catalog import Catalog
from tools.site import figures, refcode

# Reduction of the attack's success relative to the undefended value (1 = attack stopped, 0 = no change),
# at or above which a cell gets the class. The same cut-offs write the legend.
STRONG, PARTIAL = 0.5, 0.1
REDUCTION_CLASSES = {  # class -> (symbol, words): colour is never the only signal
    "strong": ("▼▼", "strong reduction"),
    "partial": ("▼", "partial reduction"),
    "none": ("=", "little or no reduction"),
    "unknown": ("?", "reduction not computable"),
}
# Utility lost (undefended minus defended, in points of the utility metric, e.g. accuracy 0.97 -> 0.95 = 0.02).
KEPT, SOME_LOSS = 0.02, 0.10
UTILITY_CLASSES = {
    "kept": ("✓", "utility kept"),
    "some": ("~", "some utility lost"),
    "lost": ("✗", "large utility loss"),
    "unknown": ("", "utility change not measured"),
}


def leakage_kept(value: float, undefended: float, direction: str) -> float | None:
    """The attack's success with the defense as a fraction of its success without it (1 = unchanged).
    For a 'lower is better attack' metric the ratio is inverted. None when the ratio is undefined."""
    if direction == "lower":
        return undefended / value if value > 0 else None
    return value / undefended if undefended > 0 else None


def reduction_class(kept: float | None) -> str:
    if kept is None:
        return "unknown"
    reduction = 1 - kept
    return "strong" if reduction >= STRONG else "partial" if reduction >= PARTIAL else "none"


def utility_class(utility: float | None, undefended: float | None) -> str:
    if utility is None or undefended is None:
        return "unknown"
    lost = undefended - utility
    return "kept" if lost <= KEPT else "some" if lost <= SOME_LOSS else "lost"


@dataclass
class Row:
    """One cell of the matrix as the page shows it."""

    cell: dict
    direction: str
    kept: float | None
    reduction: str  # key of REDUCTION_CLASSES
    utility: str  # key of UTILITY_CLASSES
    papers: list[str]  # catalogue paper IDs of the defense, then the attack (unknown IDs dropped)

    @property
    def reduction_text(self) -> str:
        symbol, words = REDUCTION_CLASSES[self.reduction]
        amount = f"{100 * (1 - self.kept):.0f}% " if self.kept is not None else ""
        return f"{symbol} {amount}({words})"

    @property
    def utility_text(self) -> str:
        return " ".join(UTILITY_CLASSES[self.utility]).strip()


@dataclass
class Family:
    module: str  # e.g. "gradient_defenses"
    defenses: list[str]  # defense labels in first-seen order (the plot's legend)
    rows: list[Row] = field(default_factory=list)


def families(cells: list[dict], cat: Catalog) -> list[Family]:
    """Cells grouped by defense module, in the order the matrix lists them."""
    out: dict[str, Family] = {}
    for c in cells:
        module = c["defense_module"].removeprefix("mi_ref.")
        fam = out.setdefault(module, Family(module, []))
        if c["defense"] not in fam.defenses:
            fam.defenses.append(c["defense"])
        metric = cat.metrics.get(c["metric"])
        # matrix.json's README: higher means more leakage for every metric it uses; the catalogue says so per metric.
        direction = metric.direction if metric else "higher"
        kept = leakage_kept(c["value"], c["undefended"], direction)
        ids = list(dict.fromkeys([*c.get("defense_papers", []), *c.get("attack_papers", [])]))
        fam.rows.append(
            Row(
                c,
                direction,
                kept,
                reduction_class(kept),
                utility_class(c.get("utility"), c.get("utility_undefended")),
                [pid for pid in ids if pid in cat.papers],
            )
        )
    return list(out.values())


def plotted(fam: Family) -> list[Row]:
    """The rows that have a point on the family's plot: a utility and a computable reduction."""
    return [r for r in fam.rows if r.cell.get("utility") is not None and r.kept is not None]


def plot(fam: Family) -> figures.Figure | None:
    """Utility (x) against the attack's success as % of undefended (y), one point per plotted cell; the
    undefended systems are hollow squares at (undefended utility, 100%). None when nothing has a utility."""
    rows = plotted(fam)
    if not rows:
        return None
    points, marks, seen = [], [], set()
    for r in rows:
        c = r.cell
        who = f"{c['attack']} ({c['attacker']})" if c.get("attacker") else c["attack"]
        points.append(
            figures.Point(
                c["utility"],
                100 * r.kept,
                fam.defenses.index(c["defense"]),
                f"{c['defense']}, {c['setting']}, vs {who}: "
                f"{c['utility_metric'] or 'utility'} {refcode.fmt(c['utility'])}, "
                f"{c['metric']} {refcode.fmt(c['value'])} of {refcode.fmt(c['undefended'])} undefended "
                f"({100 * r.kept:.0f}%)",
            )
        )
        key = (c["attack"], c.get("utility_undefended"))
        if c.get("utility_undefended") is not None and key not in seen:
            seen.add(key)
            tip = (
                f"no defense vs {c['attack']}: {c['utility_metric'] or 'utility'} "
                f"{refcode.fmt(c['utility_undefended'])}, {c['metric']} {refcode.fmt(c['undefended'])}"
            )
            marks.append(figures.Point(c["utility_undefended"], 100, -1, tip))
    metrics = sorted({r.cell["utility_metric"] for r in rows if r.cell.get("utility_metric")})
    top = max([100.0, *(p.y for p in points)])
    # Zoom the utility axis onto the data, so close settings don't pile up in a corner; round ticks.
    lowest = min(p.x for p in points + marks)
    left = next(x for x in (0.9, 0.8, 0.5, 0.0) if x <= lowest)
    return figures.scatter(
        f"results-{fam.module}",
        f"Utility against leakage: mi_ref.{fam.module}",
        f"mi_ref.{fam.module}: each defense setting's utility against the attack's success, as a share of its "
        "success without the defense (hollow squares: no defense).",
        "Utility: " + (", ".join(metrics) or "not named"),
        "Attack success, % of undefended",
        fam.defenses,
        points,
        marks,
        (left, 1.0),
        (0.0, 25 * -(-top // 25)),
    )
