"""The site's figures (the home page's, the reference results' plots), computed at build time and drawn
as static SVG.

Each figure is a `Figure`: a list of shapes (rectangles, circles, lines, text) in SVG user units, rendered by
templates/figure.svg.j2 with autoescaping, so labels from the data cannot inject markup. No JavaScript.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tools.catalog import Catalog
from tools.models import Kind

# Colour-blind-safe palette (Okabe-Ito), then greys for the tail.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
    "#666666",
    "#BBBBBB",
    "#444444",
)
KIND_ORDER: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
TEXT = "#333333"
GRID = "#dddddd"


@dataclass
class Shape:
    kind: str  # "rect", "circle" (centre x, y; radius w), "line" or "text"
    x: float
    y: float
    w: float = 0
    h: float = 0
    x2: float = 0
    y2: float = 0
    fill: str = TEXT
    stroke: str = ""
    text: str = ""
    tip: str = ""
    anchor: str = "start"
    bold: bool = False
    rotate: int = 0


@dataclass
class Figure:
    name: str  # file name stem under generated/figures/
    title: str
    alt: str  # text alternative: the figure's content in words
    caption: str
    width: int
    height: int
    shapes: list[Shape] = field(default_factory=list)


def years_of(cat: Catalog) -> list[int]:
    years = [p.year for p in cat.papers.values()]
    return list(range(min(years), max(years) + 1)) if years else []


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if value <= step * 5:
            return max(step * ((value + step - 1) // step), step)
    return value


def stacked_bars(name: str, title: str, caption: str, years: list[int], series: list[tuple[str, Counter]]) -> Figure:
    """Bars per year, stacked by series (label, Counter year -> count), with a legend on the right."""
    left, top, bottom, legend_w = 40, 16, 40, 190
    bar_step = max(10, min(28, 640 // max(len(years), 1)))
    plot_h = 220
    width = left + bar_step * len(years) + legend_w
    height = top + plot_h + bottom
    totals = {y: sum(c[y] for _, c in series) for y in years}
    peak = _nice_max(max(totals.values(), default=0) or 1)
    fig = Figure(name, title, "", caption, width, height)
    for i in range(5 + 1):  # horizontal grid with tick labels
        value = peak * i // 5
        y = top + plot_h - plot_h * value / peak
        fig.shapes.append(Shape("line", left, y, x2=left + bar_step * len(years), y2=y, stroke=GRID))
        fig.shapes.append(Shape("text", left - 4, y + 4, text=str(value), anchor="end"))
    for xi, year in enumerate(years):
        x = left + xi * bar_step + 1
        base = top + plot_h
        for si, (label, counts) in enumerate(series):
            n = counts[year]
            if not n:
                continue
            h = plot_h * n / peak
            base -= h
            fig.shapes.append(
                Shape(
                    "rect",
                    x,
                    round(base, 2),
                    w=bar_step - 2,
                    h=round(h, 2),
                    fill=PALETTE[si % len(PALETTE)],
                    tip=f"{year}: {n} {label}",
                )
            )
        if len(years) <= 16 or year % 2 == 0:
            fig.shapes.append(
                Shape("text", x + bar_step / 2, top + plot_h + 14, text=str(year), anchor="end", rotate=-45)
            )
    lx = left + bar_step * len(years) + 16
    for si, (label, counts) in enumerate(series):
        y = top + 4 + si * 18
        fig.shapes.append(Shape("rect", lx, y, w=12, h=12, fill=PALETTE[si % len(PALETTE)]))
        fig.shapes.append(Shape("text", lx + 18, y + 10, text=f"{label} ({sum(counts.values())})"))
    parts = [f"{label}: {sum(c.values())}" for label, c in series]
    fig.alt = f"{title}, {years[0]} to {years[-1]}. Totals: " + "; ".join(parts) + "." if years else title
    return fig


def heatmap(name: str, title: str, caption: str, years: list[int], rows: list[tuple[str, Counter]]) -> Figure:
    """A row per label, a column per year, each cell shaded by its count and labelled with it."""
    label_w, top, cell_w, cell_h = 300, 40, max(22, min(30, 600 // max(len(years), 1))), 20
    width = label_w + cell_w * len(years) + 10
    height = top + cell_h * len(rows) + 10
    peak = max((c[y] for _, c in rows for y in years), default=0) or 1
    fig = Figure(name, title, "", caption, width, height)
    for xi, year in enumerate(years):
        fig.shapes.append(
            Shape(
                "text",
                label_w + xi * cell_w + cell_w / 2,
                top - 6,
                text=str(year)[-2:] if len(years) > 12 else str(year),
                anchor="middle",
            )
        )
    for ri, (label, counts) in enumerate(rows):
        y = top + ri * cell_h
        fig.shapes.append(Shape("text", label_w - 6, y + cell_h * 0.7, text=label, anchor="end"))
        for xi, year in enumerate(years):
            n = counts[year]
            shade = 0.12 + 0.88 * n / peak if n else 0
            fill = f"rgba(0,114,178,{shade:.2f})" if n else "#f5f5f5"
            fig.shapes.append(
                Shape(
                    "rect", label_w + xi * cell_w, y, w=cell_w - 1, h=cell_h - 1, fill=fill, tip=f"{label}, {year}: {n}"
                )
            )
            if n:
                fig.shapes.append(
                    Shape(
                        "text",
                        label_w + xi * cell_w + cell_w / 2,
                        y + cell_h * 0.7,
                        text=str(n),
                        anchor="middle",
                        fill="#ffffff" if shade > 0.55 else TEXT,
                    )
                )
    busiest = sorted(((sum(c.values()), label) for label, c in rows), reverse=True)[:5]
    fig.alt = f"{title}. Largest families: " + "; ".join(f"{label} ({n})" for n, label in busiest) + "."
    return fig


def _root(terms: dict, term: str) -> str:
    seen = set()
    while terms[term].parent and term not in seen:
        seen.add(term)
        term = terms[term].parent
    return term


def home_figures(cat: Catalog) -> list[Figure]:
    years = years_of(cat)
    if not years:
        return []
    papers = list(cat.papers.values())
    by_kind = [(kind, Counter(p.year for p in papers if p.kind == kind)) for kind in KIND_ORDER]
    by_kind = [(k, c) for k, c in by_kind if c]
    family_rows = []
    for facet, prefix in (("attack_family", "Attack"), ("defense_family", "Defense")):
        terms = cat.terms[facet]
        counts: dict[str, Counter] = {t: Counter() for t, term in terms.items() if not term.parent}
        for p in papers:
            for root in {_root(terms, t) for t in getattr(p, facet) if t in terms}:
                counts[root][p.year] += 1
        family_rows += [(f"{prefix}: {terms[t].label}", c) for t, c in counts.items() if c]
    with_code = Counter(p.year for p in papers if p.code)
    without = Counter(p.year for p in papers if not p.code)
    return [
        stacked_bars(
            "papers-per-year-by-kind",
            "Papers per year by kind",
            "Papers per year of publication, by what they contribute.",
            years,
            by_kind,
        ),
        heatmap(
            "papers-per-year-by-family",
            "Papers per year by attack and defense family",
            "Papers per year in each top-level attack and defense family (a paper can count in several).",
            years,
            family_rows,
        ),
        stacked_bars(
            "papers-with-code",
            "Papers that link their code, per year",
            "Papers per year with and without a linked code repository.",
            years,
            [("with code", with_code), ("without code", without)],
        ),
    ]


@dataclass
class Point:
    x: float
    y: float
    series: int  # index into the legend (colour)
    tip: str


def scatter(
    name: str,
    title: str,
    caption: str,
    x_label: str,
    y_label: str,
    legend: list[str],
    points: list[Point],
    marks: list[Point],
    x_range: tuple[float, float] = (0.0, 1.0),
    y_range: tuple[float, float] = (0.0, 1.0),
) -> Figure:
    """A scatter plot on fixed axes: `points` are circles coloured by series (legend on the right), `marks`
    are hollow black squares (reference points, e.g. "no defense"). Values outside the ranges are clipped to the
    frame; each shape carries its exact numbers as a tooltip and the figure's text alternative lists them."""
    left, top, plot_w, plot_h, bottom, legend_w = 52, 16, 300, 220, 44, 260
    width, height = left + plot_w + legend_w, top + plot_h + bottom
    fig = Figure(name, title, "", caption, width, height)
    (x0, x1), (y0, y1) = x_range, y_range

    def px(v: float) -> float:
        return round(left + plot_w * (min(max(v, x0), x1) - x0) / (x1 - x0), 2)

    def py(v: float) -> float:
        return round(top + plot_h - plot_h * (min(max(v, y0), y1) - y0) / (y1 - y0), 2)

    for i in range(5 + 1):  # grid with tick labels on both axes
        xv, yv = x0 + (x1 - x0) * i / 5, y0 + (y1 - y0) * i / 5
        fig.shapes.append(Shape("line", left, py(yv), x2=left + plot_w, y2=py(yv), stroke=GRID))
        fig.shapes.append(Shape("text", left - 4, py(yv) + 4, text=f"{yv:.3g}", anchor="end"))
        fig.shapes.append(Shape("line", px(xv), top, x2=px(xv), y2=top + plot_h, stroke=GRID))
        fig.shapes.append(Shape("text", px(xv), top + plot_h + 14, text=f"{xv:.3g}", anchor="middle"))
    fig.shapes.append(Shape("text", left + plot_w / 2, top + plot_h + 34, text=x_label, anchor="middle", bold=True))
    fig.shapes.append(Shape("text", 14, top + plot_h / 2, text=y_label, anchor="middle", bold=True, rotate=-90))
    for p in points:
        fig.shapes.append(
            Shape("circle", px(p.x), py(p.y), w=5, fill=PALETTE[p.series % len(PALETTE)], stroke="#ffffff", tip=p.tip)
        )
    for m in marks:  # hollow and on top, so neither hides the other
        fig.shapes.append(Shape("rect", px(m.x) - 7, py(m.y) - 7, w=14, h=14, fill="none", stroke="#000000", tip=m.tip))
    lx = left + plot_w + 16
    entries = [(label, i) for i, label in enumerate(legend)] + ([("no defense", -1)] if marks else [])
    for row, (label, i) in enumerate(entries):
        y = top + 4 + row * 18
        if i < 0:
            fig.shapes.append(Shape("rect", lx, y, w=12, h=12, fill="none", stroke="#000000"))
        else:
            fig.shapes.append(Shape("circle", lx + 6, y + 6, w=5, fill=PALETTE[i % len(PALETTE)]))
        fig.shapes.append(Shape("text", lx + 18, y + 10, text=label))
    fig.alt = f"{title}. " + "; ".join(p.tip for p in points + marks) + "."
    return fig


@dataclass
class Matrix:
    columns: list[tuple[str, str]]  # (label, setting term ID)
    rows: list[tuple[str, list[tuple[int, str]]]]  # (modality label, [(count, explore URL)])
    max: int


def modality_setting_matrix(cat: Catalog, explore_href: str) -> Matrix:
    """Counts of papers per (modality, setting); each cell links to Explore filtered on both."""
    terms = cat.terms
    counts = Counter((m, s) for p in cat.papers.values() for m in p.modality for s in p.setting)
    columns = [(t.label, tid) for tid, t in terms["setting"].items()]
    rows = []
    for mid, mterm in terms["modality"].items():
        cells = [(counts[(mid, sid)], f"{explore_href}?modality={mid}&setting={sid}") for _, sid in columns]
        rows.append((mterm.label, cells))
    return Matrix(columns, rows, max(counts.values(), default=0) or 1)
