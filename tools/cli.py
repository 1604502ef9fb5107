"""`python -m tools <verb>`: every catalogue command in one place.

Each verb is a function taking the parsed arguments and returning an exit code. Verbs that need
heavier dependencies import them inside the function, so `validate` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.catalog import ROOT, load_catalog


def cmd_validate(args: argparse.Namespace) -> int:
    cat = load_catalog(Path(args.root))
    for problem in cat.problems:
        print(problem)
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
    for label, rows in (("seed repository", coverage.seed_rows(root)), ("peer lists (union)", coverage.peer_rows(root))):
        report = coverage.check(cat, rows, root)
        print(f"{label}: {len(rows)} rows: {len(report.matched)} in the catalogue, {len(report.excluded)} excluded, "
              f"{len(report.pending)} in the backlog, {len(report.missing)} missing")
        for list_id, (covered, total) in coverage.list_coverage(cat, rows, report).items():
            print(f"  {list_id:10s} {covered:4d} / {total:4d} rows covered")
        for key in report.missing:
            print(f"  missing: {key}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools", description="Model-inversion catalogue tooling.")
    parser.add_argument("--root", default=str(ROOT), help="repository root (default: this checkout)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("validate", help="check the whole catalogue; prints path:line: field: message").set_defaults(func=cmd_validate)
    verbs.add_parser("schema", help="regenerate catalog/schema/*.schema.json").set_defaults(func=cmd_schema)
    verbs.add_parser("coverage", help="how much of each public list the catalogue covers").set_defaults(func=cmd_coverage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error
        return 0
