"""A tldr never copies its abstract: `python -m tools fingerprint` and the check `validate` runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tools import fingerprint as fp
from tools.catalog import load_catalog

TLDR = "A made-up paper used to test the validator."
ABSTRACT = (
    "We study example models under example attacks and report how often the reconstruction succeeds. "
    "Our method inverts the target with a generator trained on public data, and the results show that "
    "even well-regularised models leak recognisable inputs across three benchmark datasets."
)


def run_cli(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools", "--root", str(root), "fingerprint", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_runs_ignore_case_punctuation_and_spacing() -> None:
    a = fp.fingerprint("Deep   leakage, from GRADIENTS: it recovers the private training data exactly.")
    b = fp.fingerprint("deep leakage from gradients it recovers the private training data exactly")
    assert a == b and len(a) == 5  # 11 words, 5 runs of 7
    assert fp.copied("Indeed deep leakage from gradients it recovers the private training data.", set(a))
    assert not fp.copied("Gradients leak the private data they were computed on.", set(a))


def test_fingerprint_records_an_own_words_tldr_and_validate_then_guards_it(catalog_root: Path) -> None:
    abstract = catalog_root / "abstract.txt"
    abstract.write_text(ABSTRACT, encoding="utf-8")
    done = run_cli(catalog_root, "doe2021example", str(abstract), "--date", "2026-11-29")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = fp.read_table(catalog_root)
    assert rows["doe2021example"]["checked"] == "2026-11-29"
    assert rows["doe2021example"]["hashes"].split() == fp.fingerprint(ABSTRACT)
    assert not load_catalog(catalog_root).problems
    # An edit that pastes the abstract into the tldr is now caught offline, with the run it shares.
    paper = catalog_root / "catalog/papers/doe2021example.yaml"
    paper.write_text(paper.read_text(encoding="utf-8").replace(TLDR, ABSTRACT[:160]), encoding="utf-8")
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith("catalog/papers/doe2021example.yaml:")
    assert ": tldr: shares 'we study example models under example attacks' with the paper's abstract" in problems[0]
    assert "rewrite the summary in your own words" in problems[0]


def test_fingerprint_refuses_a_copied_tldr_and_records_nothing(catalog_root: Path) -> None:
    paper = catalog_root / "catalog/papers/doe2021example.yaml"
    copied_tldr = "The results show that even well-regularised models leak recognisable inputs."
    paper.write_text(paper.read_text(encoding="utf-8").replace(TLDR, copied_tldr), encoding="utf-8")
    done = run_cli(catalog_root, "doe2021example", "-", stdin=ABSTRACT)
    assert done.returncode == 1
    assert "shares 5 run(s) of 7 words with the abstract; rewrite it in your own words" in done.stdout
    assert "'the results show that even well regularised'" in done.stdout
    assert not (catalog_root / fp.TABLE).exists()


def test_fingerprint_hints_at_six_word_runs_but_accepts_them(catalog_root: Path) -> None:
    paper = catalog_root / "catalog/papers/doe2021example.yaml"
    tldr = "Shows that models leak recognisable inputs across three different tasks."
    paper.write_text(paper.read_text(encoding="utf-8").replace(TLDR, tldr), encoding="utf-8")
    done = run_cli(catalog_root, "doe2021example", "-", stdin=ABSTRACT)
    assert done.returncode == 0, done.stdout
    assert "hint: 'models leak recognisable inputs across three' (6 words)" in done.stdout


def test_fingerprint_explains_bad_input(catalog_root: Path) -> None:
    for args, stdin, expected in (
        (("nosuch2020paper", "-"), ABSTRACT, "catalog/papers/nosuch2020paper.yaml: no such paper in the catalogue"),
        (("doe2021example", str(catalog_root / "missing.txt")), None, "missing.txt: cannot read the abstract"),
        (("doe2021example", "-"), "Too short.", "only 2 words; paste the whole abstract"),
    ):
        done = run_cli(catalog_root, *args, stdin=stdin)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_validate_names_bad_rows_of_the_table(catalog_root: Path) -> None:
    table = catalog_root / fp.TABLE
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_text(
        "paper\tchecked\thashes\ndoe2021example\t2026-11-29\tnot-a-hash\ngone2020paper\t2026-11-29\t0123abcd\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert f"{fp.TABLE}:2: hashes: malformed; regenerate the row with `python -m tools fingerprint`" in problems
    assert f"{fp.TABLE}:3: paper: 'gone2020paper' is not a paper ID; fix the ID or remove the row" in problems


def test_the_real_catalogue_keeps_its_fingerprints() -> None:
    rows = fp.read_table(REPO)
    cat = load_catalog(REPO)
    assert len(rows) >= 400  # the audited abstracts of session 3; rows are only ever added or replaced
    assert set(rows) <= set(cat.papers)
    assert not [p for p in cat.problems if p.field == "tldr" or p.path == fp.TABLE]
