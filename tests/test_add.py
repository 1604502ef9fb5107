"""`python -m tools add`: citations in each exporter's style become entries, checked field by field.

The BibTeX fixtures (tests/fixtures/bibtex/) are written the way DBLP, Google Scholar, ACM, IEEE,
Springer, arXiv and Semantic Scholar export them, from real papers' facts. The arXiv and Crossref
answers (tests/fixtures/http/) are served by patching the HTTP layer, so the real clients parse them.
Every test writes into a temporary catalogue (`catalog_root`), never into the repository.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, write_catalog
from tools import add as add_module
from tools import fingerprint, yamlio
from tools.catalog import load_catalog
from tools.cli import main

BIB = REPO / "tests" / "fixtures" / "bibtex"
HTTP = REPO / "tests" / "fixtures" / "http"
TODAY = dt.date.today()


def _add(root: Path, *args: str) -> int:
    return main(["--root", str(root), "add", *args])


def _papers(root: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((root / "catalog" / "papers").glob("*.yaml"))}


def _record(root: Path, pid: str) -> dict:
    return yamlio.load(root / "catalog" / "papers" / f"{pid}.yaml").data


# --- each exporter's BibTeX, field by field --------------------------------------------------------

EXPECTED = {
    "dblp.bib": {
        "fredrikson2015model": {
            "title": "Model Inversion Attacks that Exploit Confidence Information and Basic Countermeasures",
            "authors": ["Matt Fredrikson", "Somesh Jha", "Thomas Ristenpart"],
            "year": 2015,
            "venue": "ccs",
            "doi": "10.1145/2810103.2813677",
            "arxiv": None,
            "url": "https://doi.org/10.1145/2810103.2813677",
        },
        "zhao2020idlg": {  # CoRR entry: braces {iDLG:} protect case; arXiv ID from eprint; venue arxiv
            "title": "iDLG: Improved Deep Leakage from Gradients",
            "authors": ["Bo Zhao", "Konda Reddy Mopuri", "Hakan Bilen"],
            "year": 2020,
            "venue": "arxiv",
            "doi": None,
            "arxiv": "2001.02610",
            "url": "https://arxiv.org/abs/2001.02610",
        },
        "geiping2020inverting": {  # LaTeX accent {\"{o}}; long NeurIPS booktitle
            "title": "Inverting Gradients - How easy is it to break privacy in federated learning?",
            "authors": ["Jonas Geiping", "Hartmut Bauermeister", "Hannah Dröge", "Michael Moeller"],
            "year": 2020,
            "venue": "neurips",
            "doi": None,
            "arxiv": None,
            "url": "https://proceedings.neurips.cc/paper/2020/hash/c4ede56bbd98819ae6112b20ac6bf145-Abstract.html",
        },
    },
    "google-scholar.bib": {
        "zhu2019deep": {  # "Last, First" names, lower-cased journal name, no DOI and no URL
            "title": "Deep leakage from gradients",
            "authors": ["Ligeng Zhu", "Zhijian Liu", "Song Han"],
            "year": 2019,
            "venue": "neurips",
            "doi": None,
            "arxiv": None,
            "url": None,
        },
    },
    "acm.bib": {
        "yang2019neural": {
            "title": "Neural Network Inversion in Adversarial Setting via Background Knowledge Alignment",
            "authors": ["Ziqi Yang", "Jiyi Zhang", "Ee-Chien Chang", "Zhenkai Liang"],
            "year": 2019,
            "venue": "ccs",
            "doi": "10.1145/3319535.3354261",
            "arxiv": None,
            "url": "https://doi.org/10.1145/3319535.3354261",
        },
    },
    "ieee.bib": {
        "zhang2020secret": {
            "title": "The Secret Revealer: Generative Model-Inversion Attacks Against Deep Neural Networks",
            "authors": ["Yuheng Zhang", "Ruoxi Jia", "Hengzhi Pei", "Wenxiao Wang", "Bo Li", "Dawn Song"],
            "year": 2020,
            "venue": "cvpr",
            "doi": "10.1109/CVPR42600.2020.00033",
            "arxiv": None,
            "url": "https://doi.org/10.1109/CVPR42600.2020.00033",
        },
    },
    "springer.bib": {
        "yuan2022secretgen": {  # quoted values, names over several lines, "Computer Vision -- ECCV 2022"
            "title": "SecretGen: Privacy Recovery on Pre-trained Models via Distribution Discrimination",
            "authors": ["Zhuowen Yuan", "Fan Wu", "Yunhui Long", "Chaowei Xiao", "Bo Li"],
            "year": 2022,
            "venue": "eccv",
            "doi": None,
            "arxiv": None,
            "url": None,
        },
        "yang2025deep": {
            "title": "Deep learning model inversion attacks and defenses: a comprehensive survey",
            "authors": [
                "Wencheng Yang",
                "Song Wang",
                "Di Wu",
                "Taotao Cai",
                "Yanming Zhu",
                "Shicheng Wei",
                "Yiying Zhang",
                "Xu Yang",
                "Zhaohui Tang",
                "Yan Li",
            ],
            "year": 2025,
            "venue": "air",
            "doi": "10.1007/s10462-025-11248-0",
            "arxiv": None,
            "url": "https://doi.org/10.1007/s10462-025-11248-0",
        },
    },
    "arxiv.bib": {
        "morris2023text": {
            "title": "Text Embeddings Reveal (Almost) As Much As Text",
            "authors": ["John X. Morris", "Volodymyr Kuleshov", "Vitaly Shmatikov", "Alexander M. Rush"],
            "year": 2023,
            "venue": "arxiv",
            "doi": None,
            "arxiv": "2310.06816",
            "url": "https://arxiv.org/abs/2310.06816",
        },
    },
    "semantic-scholar.bib": {
        "geiping2020inverting": {  # "First Last" names, journal ArXiv with volume abs/<id>
            "title": "Inverting Gradients - How easy is it to break privacy in federated learning?",
            "authors": ["Jonas Geiping", "Hartmut Bauermeister", "Hannah Dröge", "Michael Moeller"],
            "year": 2020,
            "venue": "arxiv",
            "doi": None,
            "arxiv": "2003.14053",
            "url": "https://arxiv.org/abs/2003.14053",
        },
    },
}


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_exporter_bibtex_field_by_field(catalog_root: Path, fixture: str, capsys) -> None:
    before = _papers(catalog_root)
    assert _add(catalog_root, "--bibtex", str(BIB / fixture)) == 0, capsys.readouterr().err
    after = _papers(catalog_root)
    assert set(after) - set(before) == set(EXPECTED[fixture])
    for pid, fields in EXPECTED[fixture].items():
        data = _record(catalog_root, pid)
        assert data["id"] == pid
        for name, value in fields.items():
            assert data.get(name) == value, f"{fixture} {pid}: {name}"
        # What only a person can fill is left out (commented placeholders), never guessed.
        for name in ("kind", "tldr", "attack_family", "defense_family", "modality", "datasets", "code"):
            assert name not in data
        assert data["added"] == TODAY
        text = after[pid]
        assert text.startswith("# yaml-language-server: $schema=../schema/paper.schema.json\n")
        assert "Placeholder abstract" not in text  # the ACM and Springer exports' abstracts are not copied
    assert "still to fill: " in capsys.readouterr().out


def _fill(text: str) -> str:
    """What a contributor does after `tools add`: uncomment the placeholders and complete them."""
    text = text.replace("# kind:\n", "kind: attack\n")
    for facet, terms in (
        ("attack_family", "[generative-prior]"),
        ("modality", "[image]"),
        ("setting", "[centralised]"),
        ("knowledge", "[white-box]"),
        ("datasets", "[toyset]"),
        ("metrics", "[toymetric]"),
    ):
        assert f"# {facet}: []\n" in text
        text = text.replace(f"# {facet}: []\n", f"{facet}: {terms}\n")
    assert "# tldr: >-\n#   ...\n" in text
    text = text.replace("# tldr: >-\n#   ...\n", "tldr: >-\n  A summary written for this test, in our own words.\n")
    return text.replace("# url:\n", "url: https://example.org/landing\n")


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_written_file_passes_validate_once_filled(catalog_root: Path, fixture: str, capsys) -> None:
    assert _add(catalog_root, "--bibtex", str(BIB / fixture)) == 0
    unfilled = [str(p) for p in load_catalog(catalog_root).problems]
    for pid in EXPECTED[fixture]:  # as written, validate names exactly what is left to do
        assert f"catalog/papers/{pid}.yaml:2: kind: required field is missing" in unfilled
        assert any(p.startswith(f"catalog/papers/{pid}.yaml:2: tldr: required field is missing") for p in unfilled)
    for pid in EXPECTED[fixture]:
        path = catalog_root / "catalog" / "papers" / f"{pid}.yaml"
        path.write_text(_fill(path.read_text(encoding="utf-8")), encoding="utf-8")
    capsys.readouterr()
    assert main(["--root", str(catalog_root), "validate"]) == 0, capsys.readouterr().out
    assert set(EXPECTED[fixture]) <= set(load_catalog(catalog_root).papers)


def test_macros_months_braces_others_and_tracking_url(catalog_root: Path, capsys) -> None:
    assert _add(catalog_root, "--bibtex", str(BIB / "macros.bib")) == 0
    out = capsys.readouterr().out
    yang = _record(catalog_root, "yang2019neural")
    assert yang["venue"] == "ccs"  # from the @string macro
    assert yang["authors"] == ["Ziqi Yang"]  # 'and others' dropped ...
    assert "'and others': add the remaining authors" in out  # ... and the contributor told
    assert yang["url"] == "https://dl.acm.org/doi/10.1145/3319535.3354261"  # casa_token and /pdf/ gone
    zhang = _record(catalog_root, "zhang2020secret")
    assert zhang["title"] == "The Secret Revealer: Generative Model-Inversion Attacks Against Deep Neural Networks"
    assert zhang["venue"] == "cvpr"
    assert "url" not in zhang and "url" in out.split("zhang2020secret.yaml")[1].split("\n")[1]


def test_latex_names_and_id_of_an_accented_family_name(catalog_root: Path, capsys) -> None:
    bib = catalog_root / "names.bib"
    bib.write_text(
        '@article{k, title = {{\\\'E}tude of $\\ell_2$ Inversion}, author = {M{\\"u}ller, J{\\"o}rg and '
        "de la Fuente, Ana and Stra{\\ss}e, {\\L}ukasz}, journal = {IEEE Transactions on Image Processing}, "
        "year = {2021}, doi = {https://doi.org/10.1109/TIP.2021.1234567}}\n",
        encoding="utf-8",
    )
    assert _add(catalog_root, "--bibtex", str(bib)) == 0
    data = _record(catalog_root, "muller2021etude")
    assert data["title"] == "Étude of ℓ_2 Inversion"
    assert data["authors"] == ["Jörg Müller", "Ana de la Fuente", "Łukasz Straße"]
    assert data["venue"] == "tip"
    assert data["doi"] == "10.1109/TIP.2021.1234567"  # resolver prefix stripped


def test_bibtex_from_standard_input(catalog_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools", "--root", str(catalog_root), "add", "--bibtex", "-"],
        input=(BIB / "ieee.bib").read_bytes(),
        capture_output=True,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"wrote catalog/papers/zhang2020secret.yaml from <stdin>" in result.stdout
    assert _record(catalog_root, "zhang2020secret")["doi"] == "10.1109/CVPR42600.2020.00033"


# --- duplicates, IDs, never overwriting -------------------------------------------------------------


def test_duplicates_refused_naming_the_existing_entry(catalog_root: Path, capsys) -> None:
    # The conftest paper has DOI 10.1109/CVPR46437.2021.00001, arXiv 2101.00001, a known title.
    bib = catalog_root / "dups.bib"
    bib.write_text(
        "@inproceedings{a, title={Something Else}, author={Roe, John}, year={2021}, booktitle={CVPR},"
        " doi={10.1109/cvpr46437.2021.00001}}\n"
        "@misc{b, title={Other}, author={Roe, John}, year={2021}, eprint={2101.00001v3}, archivePrefix={arXiv}}\n"
        "@inproceedings{c, title={An example attack on example models.}, author={Roe, John}, year={2021},"
        " booktitle={CVPR}}\n"
        "@inproceedings{d, title={A Genuinely New Paper}, author={Poe, Ann}, year={2022}, booktitle={ICLR}}\n"
        "@inproceedings{e, title={A genuinely new paper}, author={Poe, Ann}, year={2022}, booktitle={ICLR}}\n",
        encoding="utf-8",
    )
    original = (catalog_root / "catalog/papers/doe2021example.yaml").read_bytes()
    assert _add(catalog_root, "--bibtex", str(bib)) == 1  # something was refused
    err = capsys.readouterr().err
    assert "same DOI 10.1109/cvpr46437.2021.00001 as catalog/papers/doe2021example.yaml" in err
    assert "same arXiv ID 2101.00001 as catalog/papers/doe2021example.yaml" in err
    assert "title is near-identical (100%) to catalog/papers/doe2021example.yaml" in err
    assert "entry 'e'" in err and "earlier in this batch" in err
    assert set(_papers(catalog_root)) == {"doe2021example", "poe2022genuinely"}  # only the new paper written
    assert (catalog_root / "catalog/papers/doe2021example.yaml").read_bytes() == original


def test_id_never_collides_and_never_overwrites(catalog_root: Path, capsys) -> None:
    papers = catalog_root / "catalog" / "papers"
    taken = "# an unrelated entry someone is still writing\nid: zhu2019deep\n"
    (papers / "zhu2019deep.yaml").write_text(taken, encoding="utf-8")
    (papers / "Zhu2019deep-leakage.yaml").write_text("id: x\n", encoding="utf-8")  # case-only variant taken too
    assert _add(catalog_root, "--bibtex", str(BIB / "google-scholar.bib")) == 0
    assert (papers / "zhu2019deep.yaml").read_text(encoding="utf-8") == taken
    assert "zhu2019deep-2" in _papers(catalog_root)
    capsys.readouterr()
    assert _add(catalog_root, "--bibtex", str(BIB / "ieee.bib"), "--keyword", "GMI") == 0
    assert "zhang2020gmi" in _papers(catalog_root)
    assert _add(catalog_root, "--bibtex", str(BIB / "acm.bib"), "--id", "zhang2020gmi") == 1
    assert "--id 'zhang2020gmi' is taken" in capsys.readouterr().err


def test_dry_run_and_kind(catalog_root: Path, capsys) -> None:
    assert _add(catalog_root, "--bibtex", str(BIB / "acm.bib"), "--dry-run", "--kind", "attack") == 0
    out = capsys.readouterr().out
    assert "would write catalog/papers/yang2019neural.yaml" in out and "  | kind: attack" in out
    assert set(_papers(catalog_root)) == {"doe2021example"}
    assert _add(catalog_root, "--bibtex", str(BIB / "acm.bib"), "--kind", "atack") == 1
    assert "did you mean 'attack'?" in capsys.readouterr().err


def test_a_screened_paper_is_flagged_with_what_to_do(catalog_root: Path, capsys) -> None:
    table = catalog_root / "catalog" / "coverage" / "screened.tsv"
    table.parent.mkdir(parents=True, exist_ok=True)
    header = "arxiv\ttitle\tverdict\treason\tscreened\n"
    row = "Neural network inversion in adversarial setting via background knowledge alignment\t{}\t{}\t2026-11-29\n"
    table.write_text(header + "\t" + row.format("out-of-scope", "not about inversion"), encoding="utf-8")
    assert _add(catalog_root, "--bibtex", str(BIB / "acm.bib"), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "catalog/coverage/screened.tsv line 2 screened this paper out of scope (not about inversion)" in out
    table.write_text(header + "\t" + row.format("unverified", "no authors seen"), encoding="utf-8")
    assert _add(catalog_root, "--bibtex", str(BIB / "acm.bib"), "--dry-run") == 0
    assert "catalog/coverage/screened.tsv line 2 lists this paper as not yet verified" in capsys.readouterr().out


# --- venues --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,venue",
    [
        ("2021 IEEE European Symposium on Security and Privacy (EuroS&P)", "euro-sp"),
        ("2022 {IEEE} Symposium on Security and Privacy, {SP} 2022, San Francisco, CA, USA", "sp"),
        ("Findings of the Association for Computational Linguistics: ACL 2023", "findings-acl"),
        (
            "Proceedings of the 61st Annual Meeting of the Association for Computational Linguistics (Volume 1: Long Papers)",
            "acl",
        ),
        ("30th USENIX Security Symposium (USENIX Security 21)", "usenix-security"),
        ("Proceedings of the 38th International Conference on Machine Learning, {ICML} 2021", "icml"),
        ("The Eleventh International Conference on Learning Representations", "iclr"),
        ("IEEE Transactions on Information Forensics & Security", "tifs"),
        ("Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR) Workshops", None),
        (
            "Proceedings of the 26th International Symposium on Research in Attacks, Intrusions and Defenses (RAID '23)",
            None,
        ),
    ],
)
def test_venue_mapping(catalog_root: Path, text: str, venue: str | None) -> None:
    match = add_module.match_venue(text, load_catalog(catalog_root))
    assert match.venue == venue
    if venue is None:
        assert match.note and match.proposal  # never silently dropped: explained, and a new venue proposed


def test_every_catalogue_venue_is_found_by_its_own_name(catalog_root: Path) -> None:
    cat = load_catalog(catalog_root)  # the repository's real catalog/venues.yaml
    for vid, venue in cat.venues.items():
        for text in (venue.name, f"Proceedings of the 2023 {venue.name} ({venue.short} 2023)"):
            assert add_module.match_venue(text, cat).venue == vid, text


def test_unknown_venue_is_proposed_not_created(catalog_root: Path, capsys) -> None:
    venues = (catalog_root / "catalog" / "venues.yaml").read_bytes()
    bib = catalog_root / "raid.bib"
    bib.write_text(
        "@inproceedings{r, title={Some Inversion Attack}, author={Poe, Ann}, year={2023}, booktitle="
        "{Proceedings of the 26th International Symposium on Research in Attacks, Intrusions and Defenses "
        "(RAID '23)}, publisher={ACM}}\n",
        encoding="utf-8",
    )
    assert _add(catalog_root, "--bibtex", str(bib)) == 0
    out = capsys.readouterr().out
    assert (catalog_root / "catalog" / "venues.yaml").read_bytes() == venues
    assert "is not in catalog/venues.yaml" in out
    assert "- id: raid" in out and 'short: "RAID"' in out and "type: conference" in out
    assert 'name: "International Symposium on Research in Attacks, Intrusions and Defenses"' in out
    text = _papers(catalog_root)["poe2023some"]
    assert "\n# venue:\n" in text and "\nvenue:" not in text
    assert "venue: required field is missing" in "\n".join(str(p) for p in load_catalog(catalog_root).problems)


# --- malformed and hostile BibTeX: a clear error, nothing written -----------------------------------

GOOD = "@inproceedings{ok, title={A Fine Paper}, author={Poe, Ann}, year={2022}, booktitle={ICLR}}\n"
HOSTILE = [
    ("unclosed-brace", "@article{x, title={Broken, author={A, B}, year={2020}}\n" + GOOD, "BibTeX syntax error"),
    ("duplicate-key", GOOD + GOOD.replace("A Fine Paper", "Another"), "used twice"),
    (
        "href-javascript",
        "@misc{x, title={\\href{javascript:alert(1)}{click}}, author={A, B}, year={2020}}\n",
        "LaTeX in a field could not be decoded",
    ),
    ("script-tag", "@misc{x, title={<script>alert(1)</script>}, author={A, B}, year={2020}}\n", "HTML tag"),
    ("img-in-author", "@misc{x, title={T T T}, author={<img src=x onerror=alert(1)>}, year={2020}}\n", "HTML tag"),
    ("template", "@misc{x, title={\\{\\{ config \\}\\} x}, author={A, B}, year={2020}}\n", "template syntax"),
    ("bidi", "@misc{x, title={safe\u202egnp.exe}, author={A, B}, year={2020}}\n", "bidirectional"),
    ("zero-width", "@misc{x, title={Zero\u200bWidth}, author={A, B}, year={2020}}\n", "invisible"),
    ("nul", "@misc{x, title={a\x00b}, author={A, B}, year={2020}}\n", "NUL byte"),
    ("deep-braces", "@misc{x, title={" + "{" * 3000 + "x" + "}" * 3000 + "}, author={A, B}, year={2020}}\n", ""),
    ("bad-year", "@misc{x, title={T}, author={A, B}, year={twenty}}\n", "is not a year"),
    ("year-range", "@misc{x, title={T}, author={A, B}, year={1850}}\n", "year"),
    ("no-title", "@misc{x, author={A, B}, year={2020}}\n", "no title"),
    ("no-year", "@misc{x, title={T}, author={A, B}}\n", "no year"),
    ("only-others", "@misc{x, title={T}, author={others}, year={2020}}\n", "only 'others'"),
    (
        "javascript-url",
        "@misc{x, title={T}, author={A, B}, year={2020}, url={javascript:alert(1)}}\n",
        "not an http(s) URL",
    ),
    (
        "url-credentials",
        "@misc{x, title={T}, author={A, B}, year={2020}, url={https://u:p@example.org/}}\n",
        "credentials",
    ),
]


@pytest.mark.parametrize("name,bibtex,fragment", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_malformed_or_hostile_bibtex(catalog_root: Path, capsys, name: str, bibtex: str, fragment: str) -> None:
    bib = catalog_root / "in.bib"
    bib.write_text(GOOD + bibtex, encoding="utf-8")  # a good entry in the same batch is not written either
    assert _add(catalog_root, "--bibtex", str(bib)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragment in err and "nothing was written" in err
    assert "Traceback" not in err
    assert set(_papers(catalog_root)) == {"doe2021example"}


def test_not_bibtex_not_utf8_and_oversized_files(catalog_root: Path, capsys) -> None:
    yaml_file = catalog_root / "catalog" / "papers" / "doe2021example.yaml"
    assert _add(catalog_root, "--bibtex", str(yaml_file)) == 1
    assert "no BibTeX entries found" in capsys.readouterr().err
    latin1 = catalog_root / "latin1.bib"
    latin1.write_bytes("@misc{x, title={Étude}, author={A, B}, year={2020}}\n".encode("latin-1"))
    assert _add(catalog_root, "--bibtex", str(latin1)) == 1
    assert "not UTF-8 text" in capsys.readouterr().err
    big = catalog_root / "big.bib"
    big.write_bytes(b"%" * (add_module.MAX_BIBTEX_BYTES + 10))
    assert _add(catalog_root, "--bibtex", str(big)) == 1
    assert "split it into smaller files" in capsys.readouterr().err
    assert _add(catalog_root, "--bibtex", str(catalog_root / "missing.bib")) == 1
    assert "cannot read" in capsys.readouterr().err
    assert set(_papers(catalog_root)) == {"doe2021example"}


_field_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=40)
_bibtexish = st.text(alphabet=st.sampled_from(list('@{}=,"\\#% \n\tabcAB12-_:/.\u202e\u00e9<>')), max_size=300)
# What an incomplete-but-correct new entry may still lack; anything else wrong is a bug in `add`.
_STILL_TO_FILL = {"kind", "tldr", "venue", "url"}


def _run_add(root: Path, bib: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--root", str(root), "add", "--bibtex", str(bib)])
    return code, err.getvalue()


@settings(max_examples=60, deadline=None)
@given(title=_field_text, author=_field_text)
def test_any_field_text_gives_a_clear_error_or_a_valid_entry(title: str, author: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_catalog(Path(tmp))
        bib = root / "in.bib"
        bib.write_text(f"@misc{{k, title={{{title}}}, author={{{author}}}, year={{2020}}}}\n", encoding="utf-8")
        code, err = _run_add(root, bib)
        written = sorted(set(_papers(root)) - {"doe2021example"})
        if code == 0:
            assert len(written) == 1
            problems = [p for p in load_catalog(root).problems if p.path == f"catalog/papers/{written[0]}.yaml"]
            # Every field `add` filled is valid: only the fields left for a person are reported.
            assert {p.field for p in problems} <= _STILL_TO_FILL, problems
            assert all(p.message.startswith("required field is missing") for p in problems)
        else:
            assert err.startswith("error: ") and "nothing was written" in err
            assert written == []


@settings(max_examples=80, deadline=None)
@given(text=_bibtexish)
def test_any_text_as_bibtex_never_crashes(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_catalog(Path(tmp))
        bib = root / "in.bib"
        bib.write_text(text, encoding="utf-8")
        code, err = _run_add(root, bib)  # an unexpected exception fails the test with its traceback
        assert code in (0, 1)
        if code == 1 and not err.startswith("refused"):
            assert err.startswith("error: ")


# --- arXiv and Crossref, through their real clients, answered from recorded responses ----------------


class _Recorder:
    def __init__(self) -> None:
        self.urls: list[str] = []


@pytest.fixture
def arxiv_http(monkeypatch):
    """Serve the arXiv API from tests/fixtures/http via requests' transport adapter."""
    import requests

    calls = _Recorder()
    monkeypatch.setattr(add_module, "ARXIV_DELAY_S", 0.0)

    def send(self, request, **kwargs):
        calls.urls.append(request.url)
        assert request.url.startswith("https://export.arxiv.org/api/query?")
        name = "arxiv-2310.06816.xml" if "id_list=2310.06816" in request.url else "arxiv-empty.xml"
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
        response._content = (HTTP / name).read_bytes()
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return calls


@pytest.fixture
def crossref_http(monkeypatch):
    """Serve Crossref's works API from tests/fixtures/http via httpx2's transport."""
    import httpx2

    calls = _Recorder()

    def handle_request(self, request):
        url = str(request.url)
        calls.urls.append(url)
        assert url.startswith("https://api.crossref.org/works/")
        doi = url.removeprefix("https://api.crossref.org/works/").split("?")[0]
        path = HTTP / f"crossref-{doi.replace('/', '_')}.json"
        if path.exists():
            return httpx2.Response(
                200, headers={"Content-Type": "application/json"}, content=path.read_bytes(), request=request
            )
        return httpx2.Response(
            404,
            headers={"Content-Type": "text/plain"},
            content=(HTTP / "crossref-404.txt").read_bytes(),
            request=request,
        )

    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", handle_request)
    return calls


def test_add_from_arxiv(catalog_root: Path, arxiv_http: _Recorder, capsys) -> None:
    assert _add(catalog_root, "--arxiv", "arXiv:2310.06816v1") == 0
    out = capsys.readouterr().out
    assert len(arxiv_http.urls) == 1 and "id_list=2310.06816" in arxiv_http.urls[0]
    data = _record(catalog_root, "morris2023text")
    assert data["title"] == "Text Embeddings Reveal (Almost) As Much As Text"
    assert data["authors"] == ["John X. Morris", "Volodymyr Kuleshov", "Vitaly Shmatikov", "Alexander M. Rush"]
    assert (data["year"], data["venue"], data["arxiv"]) == (2023, "arxiv", "2310.06816")
    assert data["url"] == "https://arxiv.org/abs/2310.06816" and "doi" not in data
    assert "Placeholder summary" not in _papers(catalog_root)["morris2023text"]
    assert "arXiv says 'EMNLP 2023'" in out and "`venue: emnlp`" in out


def test_arxiv_preprint_with_a_journal_doi(catalog_root: Path, arxiv_http: _Recorder, monkeypatch, capsys) -> None:
    # Synthetic variant of the recorded answer: the same entry with an <arxiv:doi> (Crossref's test prefix).
    import requests

    xml = (
        (HTTP / "arxiv-2310.06816.xml")
        .read_bytes()
        .replace(
            b"<arxiv:comment",
            b'<arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">10.5555/12345678</arxiv:doi>\n    <arxiv:comment',
            1,
        )
    )

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code, response.url, response.request, response._content = 200, request.url, request, xml
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    assert _add(catalog_root, "--arxiv", "2310.06816") == 0
    data = _record(catalog_root, "morris2023text")
    assert data["venue"] == "arxiv" and "doi" not in data  # a journal DOI never sits beside venue: arxiv
    assert "run python -m tools add --doi 10.5555/12345678" in capsys.readouterr().out


def test_arxiv_unknown_id_and_bad_id(catalog_root: Path, arxiv_http: _Recorder, capsys) -> None:
    assert _add(catalog_root, "--arxiv", "2999.99999") == 1
    assert "arXiv has no paper 2999.99999; check the ID" in capsys.readouterr().err
    assert _add(catalog_root, "--arxiv", "not-an-id") == 1
    assert "is not an arXiv ID" in capsys.readouterr().err
    assert len(arxiv_http.urls) == 1  # the malformed ID never reached the network
    assert set(_papers(catalog_root)) == {"doe2021example"}


def test_add_from_doi_then_arxiv_is_a_duplicate(
    catalog_root: Path, crossref_http: _Recorder, arxiv_http, capsys
) -> None:
    assert _add(catalog_root, "--doi", "https://doi.org/10.18653/v1/2023.emnlp-main.765") == 0
    assert crossref_http.urls == ["https://api.crossref.org/works/10.18653/v1/2023.emnlp-main.765"]
    data = _record(catalog_root, "morris2023text")
    assert data["authors"] == ["John Morris", "Volodymyr Kuleshov", "Vitaly Shmatikov", "Alexander Rush"]
    assert (data["year"], data["venue"], data["doi"]) == (2023, "emnlp", "10.18653/v1/2023.emnlp-main.765")
    assert data["url"] == "https://aclanthology.org/2023.emnlp-main.765"
    capsys.readouterr()
    assert _add(catalog_root, "--arxiv", "2310.06816") == 1
    assert "title is near-identical (100%) to catalog/papers/morris2023text.yaml" in capsys.readouterr().err
    assert set(_papers(catalog_root)) == {"doe2021example", "morris2023text"}


def test_doi_journal_article_and_arxiv_doi(catalog_root: Path, crossref_http: _Recorder, arxiv_http, capsys) -> None:
    assert _add(catalog_root, "--doi", "10.1007/s10462-025-11248-0") == 0
    data = _record(catalog_root, "yang2025deep")
    assert (data["venue"], data["year"], len(data["authors"])) == ("air", 2025, 10)
    assert data["url"] == "https://link.springer.com/10.1007/s10462-025-11248-0"
    # arXiv's own DOIs are DataCite's, not Crossref's: they go to the arXiv API.
    assert _add(catalog_root, "--doi", "10.48550/arXiv.2310.06816") == 0
    assert len(crossref_http.urls) == 1 and len(arxiv_http.urls) == 1
    assert _record(catalog_root, "morris2023text")["arxiv"] == "2310.06816"


@pytest.mark.parametrize(
    "raw,text",
    [
        (
            "Deep <i>k</i>-NN Defense against Clean-Label Data Poisoning",
            "Deep k-NN Defense against Clean-Label Data Poisoning",
        ),
        ("Privacy &amp; Security of <scp>FL</scp>", "Privacy & Security of FL"),
        ("The <mml:math><mml:mi>ℓ</mml:mi></mml:math> norm", "The ℓ norm"),
        ("a < b and c > d", "a < b and c > d"),  # comparisons are not tags: kept (the validator judges the result)
    ],
)
def test_crossref_markup_is_stripped(raw: str, text: str) -> None:
    assert add_module.strip_markup(raw) == text


def test_doi_unknown(catalog_root: Path, crossref_http: _Recorder, capsys) -> None:
    assert _add(catalog_root, "--doi", "10.9999/no.such.doi") == 1
    assert "Crossref has no record of DOI 10.9999/no.such.doi" in capsys.readouterr().err
    assert _add(catalog_root, "--doi", "not a doi") == 1
    assert "is not a DOI" in capsys.readouterr().err


def test_network_unavailable(catalog_root: Path, monkeypatch, capsys) -> None:
    import httpx2
    import requests

    monkeypatch.setattr(add_module, "ARXIV_DELAY_S", 0.0)

    def no_route(self, request, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'export.arxiv.org'")

    def no_route_httpx(self, request):
        raise httpx2.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", no_route)
    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", no_route_httpx)
    assert _add(catalog_root, "--arxiv", "2310.06816") == 1
    err = capsys.readouterr().err
    assert "cannot reach the arXiv API (export.arxiv.org)" in err and "check your network connection" in err
    assert _add(catalog_root, "--doi", "10.1145/3319535.3354261") == 1
    err = capsys.readouterr().err
    assert "cannot reach Crossref (api.crossref.org)" in err and "--bibtex" in err and "Traceback" not in err
    assert set(_papers(catalog_root)) == {"doe2021example"}


def test_contributing_documents_every_field_and_the_commands() -> None:
    from tools.models import Paper

    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    missing = [name for name in Paper.model_fields if f"`{name}`" not in text]
    assert missing == [], f"CONTRIBUTING.md does not explain: {missing}"
    for command in (
        "python -m tools validate",
        "python -m tools links --offline",
        "python -m tools add --doi",
        "python -m tools add --arxiv",
        "python -m tools add --bibtex",
    ):
        assert command in text


# --- the source's abstract: fingerprinted so a copied tldr fails validate, never written -------------------


def _arxiv_summary() -> str:
    xml = (HTTP / "arxiv-2310.06816.xml").read_text(encoding="utf-8")
    return " ".join(re.search(r"<summary>(.*?)</summary>", xml, re.DOTALL).group(1).split())


def test_arxiv_abstract_is_fingerprinted_and_guards_the_tldr(catalog_root: Path, arxiv_http, capsys) -> None:
    assert _add(catalog_root, "--arxiv", "2310.06816") == 0
    assert "recorded the abstract's fingerprint of morris2023text" in capsys.readouterr().out
    summary = _arxiv_summary()
    assert summary[:60] not in _papers(catalog_root)["morris2023text"]  # the text itself is never written
    rows = fingerprint.read_table(catalog_root)
    assert rows["morris2023text"]["hashes"].split() == fingerprint.fingerprint(summary)
    path = catalog_root / "catalog/papers/morris2023text.yaml"
    filled = _fill(path.read_text(encoding="utf-8"))
    path.write_text(filled, encoding="utf-8")
    assert not load_catalog(catalog_root).problems  # an own-words tldr passes
    first_sentence = summary.split(". ")[0]
    path.write_text(
        filled.replace("A summary written for this test, in our own words.", first_sentence + "."), encoding="utf-8"
    )
    problems = [str(p) for p in load_catalog(catalog_root).problems]
    assert len(problems) == 1 and ": tldr: shares '" in problems[0] and "with the paper's abstract" in problems[0]


def test_dry_run_records_no_fingerprint_and_short_abstracts_are_skipped(catalog_root: Path, arxiv_http, capsys) -> None:
    assert _add(catalog_root, "--arxiv", "2310.06816", "--dry-run") == 0
    assert "would record the abstract's fingerprint of morris2023text" in capsys.readouterr().out
    assert not (catalog_root / fingerprint.TABLE).exists()
    # The ACM export's abstract is a one-line placeholder: too short to fingerprint, and not recorded.
    assert _add(catalog_root, "--bibtex", str(BIB / "acm.bib")) == 0
    assert "fingerprint" not in capsys.readouterr().out
    assert not (catalog_root / fingerprint.TABLE).exists()


def test_crossref_jats_abstract_is_fingerprinted(catalog_root: Path, crossref_http, monkeypatch, capsys) -> None:
    import httpx2

    record = json.loads((HTTP / "crossref-10.18653_v1_2023.emnlp-main.765.json").read_text(encoding="utf-8"))
    abstract = (
        "We ask how much private text an attacker can rebuild from dense text embeddings alone, and we find "
        "that an iterative correction model recovers most short inputs exactly."
    )
    record["message"]["abstract"] = f"<jats:p>{abstract}</jats:p>"

    def handle_request(self, request):
        return httpx2.Response(
            200, headers={"Content-Type": "application/json"}, content=json.dumps(record).encode(), request=request
        )

    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", handle_request)
    assert _add(catalog_root, "--doi", "10.18653/v1/2023.emnlp-main.765") == 0
    assert fingerprint.read_table(catalog_root)["morris2023text"]["hashes"].split() == fingerprint.fingerprint(abstract)
    assert "jats" not in (catalog_root / fingerprint.TABLE).read_text(encoding="utf-8")
