"""Every export reads back, with a reader independent of the writer, to what the catalogue's YAML says.

The expected values come from the YAML files read with plain `yaml.safe_load` (not the catalogue's
loader or models); JSON is checked against its schema with `jsonschema`, BibTeX is parsed by pybtex
and decoded by latexcodec (the writer uses bibtexparser and pylatexenc), CSV by the csv module.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import jsonschema
import latexcodec  # noqa: F401  (registers the "ulatex" codec)
import pytest
import yaml
from pybtex.database import parse_string

from tests.conftest import REPO, write_catalog
from tools import export
from tools.catalog import load_catalog


def raw_records(root: Path, folder: str) -> dict[str, dict]:
    out = {}
    for path in sorted((root / "catalog" / folder).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[data["id"]] = {
            k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items() if v not in (None, [])
        }
        if isinstance(data.get("reference"), dict):
            out[data["id"]]["reference"] = {k: v for k, v in data["reference"].items() if v is not None}
    return out


def parents(root: Path) -> dict[str, dict[str, str | None]]:
    tax = yaml.safe_load((root / "catalog" / "taxonomy.yaml").read_text(encoding="utf-8"))
    return {f["id"]: {t["id"]: t.get("parent") for t in f["terms"]} for f in tax["facets"]}


def untex(text: str) -> str:
    """BibTeX field -> plain text: decode LaTeX, drop the protecting braces."""
    return codecs.decode(text, "ulatex").replace("{", "").replace("}", "")


TRICKY = {
    "title": 'Ünïcode & 100% of a_b #1: Müller\'s "Øresund" “Quoted” Attack, 10× Faster',
    "authors": ["Jörg Müller-Lüdenscheidt", "Zoë O'Brien", "Ana de la Cruz"],
}


@pytest.fixture(params=["real", "tricky"])
def root(request, tmp_path) -> Path:
    if request.param == "real":
        return REPO
    root = write_catalog(tmp_path)
    path = root / "catalog" / "papers" / "doe2021example.yaml"
    text = path.read_text(encoding="utf-8").replace(
        '"An Example Attack on Example Models"', json.dumps(TRICKY["title"])
    )
    text = text.replace("  - Jane Doe\n  - John Roe\n", "".join(f"  - {json.dumps(a)}\n" for a in TRICKY["authors"]))
    path.write_text(text, encoding="utf-8")
    # A second paper whose title a spreadsheet would run as a formula.
    (root / "catalog" / "papers" / "roe2022formula.yaml").write_text(
        text.replace("doe2021example", "roe2022formula")
        .replace(json.dumps(TRICKY["title"]), '"=HYPERLINK(1) Formula Title"')
        .replace("doi: 10.1109/CVPR46437.2021.00001\n", "")
        .replace('arxiv: "2101.00001"\n', ""),
        encoding="utf-8",
    )
    # A third whose authors and summary no source confirmed: exports leave them out, not blank.
    (root / "catalog" / "papers" / "stub2020pending.yaml").write_text(
        re.sub(r"authors:\n(  - .*\n)+", "", text)
        .replace("doe2021example", "stub2020pending")
        .replace(json.dumps(TRICKY["title"]), '"A Paper Nobody Could Find"')
        .replace("doi: 10.1109/CVPR46437.2021.00001\n", "doi: 10.1109/CVPR46437.2021.00002\n")
        .replace('arxiv: "2101.00001"\n', "")
        .replace("tldr: A made-up paper used to test the validator.\n", "unverified: [authors, tldr]\n"),
        encoding="utf-8",
    )
    return root


@pytest.fixture
def files(root) -> dict[str, str]:
    cat = load_catalog(root)
    assert not cat.problems, cat.problems[:3]
    return export.render_exports(cat)


def test_json_matches_schema_and_yaml(root, files):
    data = json.loads(files["catalogue.json"])
    jsonschema.Draft202012Validator(json.loads(files["catalogue.schema.json"])).validate(data)
    for key, folder in (("papers", "papers"), ("datasets", "datasets"), ("metrics", "metrics")):
        expected = raw_records(root, folder)
        got = {r["id"]: {k: v for k, v in r.items() if v != []} for r in data[key]}
        assert got == expected
    venues = yaml.safe_load((root / "catalog" / "venues.yaml").read_text(encoding="utf-8"))["venues"]
    assert data["venues"] == venues
    assert {f["id"]: [t["id"] for t in f["terms"]] for f in data["taxonomy"]["facets"]} == {
        f: list(terms) for f, terms in parents(root).items()
    }


def test_schema_rejects_a_broken_export(files):
    data = json.loads(files["catalogue.json"])
    data["papers"][0]["kind"] = "not-a-kind"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json.loads(files["catalogue.schema.json"]))


def test_csv_matches_yaml(root, files):
    expected = raw_records(root, "papers")
    rows = list(csv.DictReader(io.StringIO(files["papers.csv"])))
    assert [r["id"] for r in rows] == sorted(expected)
    for row in rows:
        paper = expected[row["id"]]
        for column, cell in row.items():
            if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@"):
                cell = cell[1:]  # the CSV-injection guard
            want = paper.get(column)
            if isinstance(want, list):
                assert cell.split("; ") == [str(v) for v in want], (row["id"], column)
            else:
                assert cell == ("" if want is None else str(want)), (row["id"], column)


def test_bibtex_reads_back_with_pybtex(root, files):
    expected = raw_records(root, "papers")
    venues = {
        v["id"]: v for v in yaml.safe_load((root / "catalog" / "venues.yaml").read_text(encoding="utf-8"))["venues"]
    }
    bib = parse_string(files["catalogue.bib"], "bibtex")
    assert sorted(bib.entries) == sorted(expected)
    for key, entry in bib.entries.items():
        paper = expected[key]
        assert untex(entry.fields["title"]) == paper["title"]
        names = [
            untex(" ".join(p.first_names + p.middle_names + p.prelast_names + p.last_names))
            for p in entry.persons.get("author", [])
        ]
        assert names == paper.get("authors", [])  # an entry whose authors are unverified has no author field
        assert entry.fields["year"] == str(paper["year"])
        assert entry.fields["url"] == paper["url"]
        assert entry.fields.get("doi") == paper.get("doi")
        assert entry.fields.get("eprint") == paper.get("arxiv")
        container = entry.fields.get("booktitle") or entry.fields.get("journal") or entry.fields.get("howpublished")
        if paper["venue"] != "arxiv":
            assert untex(container) == venues[paper["venue"]]["name"]


def is_under(term: str | None, ancestor: str, parent_of: dict[str, str | None]) -> bool:
    while term is not None:
        if term == ancestor:
            return True
        term = parent_of.get(term)
    return False


def test_per_term_bibtex_holds_the_terms_papers(root, files):
    expected = raw_records(root, "papers")
    tree = parents(root)
    for facet, terms in tree.items():
        for term in terms:
            want = sorted(pid for pid, p in expected.items() if any(is_under(t, term, terms) for t in p.get(facet, [])))
            name = f"bibtex/{facet}/{term}.bib"
            if not want:
                assert name not in files
                continue
            assert sorted(parse_string(files[name], "bibtex").entries) == want, name


def test_csl_json_matches_yaml(root, files):
    expected = raw_records(root, "papers")
    items = json.loads(files["catalogue.csl.json"])
    assert [i["id"] for i in items] == sorted(expected)
    for item in items:
        paper = expected[item["id"]]
        assert item["title"] == paper["title"]
        assert [n.get("literal") or f"{n['given']} {n['family']}" for n in item.get("author", [])] == paper.get(
            "authors", []
        )
        assert item["issued"] == {"date-parts": [[paper["year"]]]}
        assert item.get("DOI") == paper.get("doi") and item["URL"] == paper["url"]
        assert item["type"] in {"paper-conference", "article-journal", "article", "chapter"}


def test_export_command_writes_the_files(tmp_path, capsys):
    from tools.cli import main

    root = write_catalog(tmp_path / "repo")
    assert main(["--root", str(root), "export", "--out", str(tmp_path / "out")]) == 0
    names = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert {"catalogue.json", "catalogue.schema.json", "papers.csv", "catalogue.bib", "catalogue.csl.json"} <= names
    assert re.search(r"wrote \d+ files", capsys.readouterr().out)
