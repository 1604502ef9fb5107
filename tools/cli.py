"""`python -m tools <verb>`: every catalogue command in one place.

Each verb is a function taking the parsed arguments and returning an exit code. Verbs that need
heavier dependencies import them inside the function, so `validate` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from tools.catalog import ROOT, load_catalog


def github_annotation(problem, level: str = "error") -> str:
    """A GitHub Actions workflow command that annotates the file and line of a problem in a pull request."""

    def data(value: object) -> str:  # escaping rules of the GitHub Actions toolkit
        return str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(value: object) -> str:
        return data(value).replace(":", "%3A").replace(",", "%2C")

    line = f",line={problem.line}" if problem.line > 0 else ""
    return f"::{level} file={prop(problem.path)}{line},title={prop(problem.field)}::{data(problem.message)}"


def cmd_validate(args: argparse.Namespace) -> int:
    cat = load_catalog(Path(args.root))
    for problem in cat.problems:
        print(github_annotation(problem) if args.github else problem)
    if cat.problems:
        print(f"{len(cat.problems)} problem(s) found", file=sys.stderr)
        return 1
    print(cat.summary())
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from tools.schema import write_schemas

    for path in write_schemas(Path(args.root)):
        print(f"wrote {path}")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from tools import coverage

    root = Path(args.root)
    cat = load_catalog(root)
    for label, rows in (
        ("seed repository", coverage.seed_rows(root)),
        ("peer lists (union)", coverage.peer_rows(root)),
    ):
        report = coverage.check(cat, rows, root)
        print(
            f"{label}: {len(rows)} rows: {len(report.matched)} in the catalogue, {len(report.excluded)} excluded, "
            f"{len(report.pending)} in the backlog, {len(report.missing)} missing"
        )
        for list_id, (covered, total) in coverage.list_coverage(cat, rows, report).items():
            print(f"  {list_id:10s} {covered:4d} / {total:4d} rows covered")
        for key in report.missing:
            print(f"  missing: {key}")
    from tools import screened

    verdicts = Counter(row.verdict for row in screened.read(root)[0])
    print(
        f"screened outside the lists ({screened.TABLE}): {verdicts['out-of-scope']} out of scope, "
        f"{verdicts['unverified']} in scope but not yet verified"
    )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from tools.add import run

    return run(args)


def cmd_links(args: argparse.Namespace) -> int:
    from tools.links import run

    return run(args)


def cmd_build(args: argparse.Namespace) -> int:
    from tools.site import build

    return build.build(Path(args.root))


def cmd_serve(args: argparse.Namespace) -> int:
    from tools.site import build

    return build.serve(Path(args.root), address=args.dev_addr)


def cmd_export(args: argparse.Namespace) -> int:
    from tools import export
    from tools.site.build import load_checked

    cat = load_checked(Path(args.root))
    if cat is None:
        return 1
    paths = export.write_exports(cat, Path(args.out))
    print(f"wrote {len(paths)} files under {args.out}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from tools.stats import ANY_LIST, report

    cat = load_catalog(Path(args.root))
    if cat.problems:
        print(f"the catalogue has {len(cat.problems)} problem(s); run `python -m tools validate`", file=sys.stderr)
        return 1
    if args.listed_in and args.listed_in not in cat.lists and args.listed_in != ANY_LIST:
        known = ", ".join(sorted(cat.lists) + [ANY_LIST])
        print(f"--listed-in {args.listed_in}: no such list in catalog/lists.yaml; use one of {known}", file=sys.stderr)
        return 2
    print(report(cat, args.listed_in))
    return 0


def cmd_fingerprint(args: argparse.Namespace) -> int:
    import datetime as dt

    from tools import fingerprint as fp

    root = Path(args.root)
    cat = load_catalog(root)
    where = f"catalog/papers/{args.paper}.yaml"
    paper = cat.papers.get(args.paper)
    if paper is None:
        print(f"{where}: no such paper in the catalogue; check the ID (the file name without .yaml)", file=sys.stderr)
        return 2
    if not paper.tldr:
        print(f"{where}: tldr: the entry has none yet; write one, then check it", file=sys.stderr)
        return 2
    try:
        abstract = sys.stdin.read() if args.abstract == "-" else Path(args.abstract).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        print(
            f"{args.abstract}: cannot read the abstract ({err}); give a UTF-8 text file or - for stdin", file=sys.stderr
        )
        return 2
    if len(fp.words(abstract)) < 3 * fp.RUN:
        print(f"{args.abstract}: only {len(fp.words(abstract))} words; paste the whole abstract", file=sys.stderr)
        return 2
    copied = fp.shared(paper.tldr, abstract, fp.RUN)
    if copied:
        print(
            f"{where}: tldr: shares {len(copied)} run(s) of {fp.RUN} words with the abstract; rewrite it in your own words:"
        )
        for run in copied:
            print(f"  '{run}'")
        return 1
    for run in fp.shared(paper.tldr, abstract, fp.NEAR):
        print(f"{where}: tldr: hint: '{run}' ({fp.NEAR} words) is the abstract's phrasing; consider rephrasing")
    rows = fp.read_table(root)
    rows[paper.id] = {
        "paper": paper.id,
        "checked": args.date or dt.date.today().isoformat(),
        "hashes": " ".join(fp.fingerprint(abstract)),
    }
    fp.write_table(root, rows)
    print(f"{where}: tldr is in its own words; fingerprint recorded in {fp.TABLE} ({len(rows)} papers)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools", description="Model-inversion catalogue tooling.")
    parser.add_argument("--root", default=str(ROOT), help="repository root (default: this checkout)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    validate = verbs.add_parser("validate", help="check the whole catalogue; prints path:line: field: message")
    validate.add_argument(
        "--github", action="store_true", help="print GitHub annotations (::error file=...,line=...::)"
    )
    validate.set_defaults(func=cmd_validate)
    verbs.add_parser("schema", help="regenerate catalog/schema/*.schema.json").set_defaults(func=cmd_schema)
    stats = verbs.add_parser("stats", help="counts by kind, facet, year and venue; field completeness")
    stats.add_argument(
        "--listed-in",
        metavar="LIST",
        help="only the papers this tracked list mentions (catalog/lists.yaml); 'any': those at least one mentions",
    )
    stats.set_defaults(func=cmd_stats)
    verbs.add_parser("coverage", help="how much of each public list the catalogue covers").set_defaults(
        func=cmd_coverage
    )
    add = verbs.add_parser("add", help="write catalog/papers/<id>.yaml from BibTeX, an arXiv ID or a DOI")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--bibtex", metavar="FILE", help="BibTeX file with one or more entries ('-' reads standard input)"
    )
    source.add_argument("--arxiv", metavar="ID", help="arXiv identifier, e.g. 2001.02610")
    source.add_argument("--doi", metavar="DOI", help="DOI, e.g. 10.1145/3319535.3354261 (looked up on Crossref)")
    add.add_argument("--kind", help="fill `kind` too: attack, defense, survey, benchmark, tool or analysis")
    add.add_argument("--keyword", help="keyword for the ID (method name), e.g. dlg gives zhu2019dlg; one paper only")
    add.add_argument("--id", help="the whole ID, when the convention cannot derive it; one paper only")
    add.add_argument("--dry-run", action="store_true", help="print the entries instead of writing them")
    add.set_defaults(func=cmd_add)
    links = verbs.add_parser("links", help="check every URL in the catalogue (dead, redirected, tracking parameters)")
    links.add_argument(
        "--offline", action="store_true", help="check URL syntax only (no network); what pull requests run"
    )
    links.add_argument("--github", action="store_true", help="print GitHub Actions annotations")
    links.add_argument("--report", metavar="FILE", help="also write a Markdown report to FILE when there are findings")
    links.add_argument("--workers", type=int, default=8, help="concurrent requests (default 8)")
    links.add_argument("--per-host-interval", type=float, default=1.0, help="seconds between requests to one host")
    links.add_argument("--no-cache", action="store_true", help="ignore and do not update .cache/links.json")
    links.set_defaults(func=cmd_links)
    verbs.add_parser(
        "build", help="validate, generate the site's pages, then mkdocs build --strict into build/site/"
    ).set_defaults(func=cmd_build)
    serve = verbs.add_parser(
        "serve", help="build and serve the site with live preview (regenerates on catalogue changes)"
    )
    serve.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on (default: 127.0.0.1:8000)")
    serve.set_defaults(func=cmd_serve)
    fingerprint = verbs.add_parser(
        "fingerprint",
        help="check a tldr against the paper's abstract (no 7-word run shared) and record the abstract's fingerprint",
    )
    fingerprint.add_argument("paper", help="paper ID, e.g. zhu2019dlg")
    fingerprint.add_argument("abstract", help="text file holding the abstract ('-' reads standard input)")
    fingerprint.add_argument("--date", help="date of the check (YYYY-MM-DD; default: today)")
    fingerprint.set_defaults(func=cmd_fingerprint)
    export = verbs.add_parser("export", help="write the catalogue as JSON (+ schema), CSV, BibTeX and CSL-JSON")
    export.add_argument("--out", default="build/exports", help="output folder (default: build/exports)")
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error
        return 0
