"""Unit tests of the site generator (tools/site/): pages per record, links, escaping, figures, explore data.

These render pages in memory (no MkDocs run); tests/test_site_build.py builds whole sites.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

import markdown
import pytest
import yaml

from tests.conftest import REPO, write_catalog
from tools.catalog import load_catalog
from tools.models import FACETS, Paper
from tools.site import build, explore, figures, pages, refcode


@pytest.fixture(scope="module")
def real():
    cat = load_catalog(REPO)
    assert not cat.problems, cat.problems[:3]
    return cat, pages.render_site(cat, REPO)


REPO_URL = "https://git.example/owner/repo"  # what a hosted site would set as repo_url in mkdocs.yml


@pytest.fixture(scope="module")
def real_with_repo(real):
    cat, _ = real
    return cat, pages.render_site(cat, REPO, config={"repo_url": REPO_URL})


def test_a_page_for_every_record(real):
    cat, files = real
    for pid in cat.papers:
        assert f"papers/{pid}.md" in files, pid
    for facet in FACETS:
        assert f"taxonomy/{facet}/index.md" in files
        for term in cat.terms[facet]:
            assert f"taxonomy/{facet}/{term}.md" in files, (facet, term)
    for did in cat.datasets:
        assert f"datasets/{did}.md" in files
    for mid in cat.metrics:
        assert f"metrics/{mid}.md" in files
    for name in refcode.read_modules(REPO):
        assert f"reference/{name}.md" in files
    for name in (
        "explore.json",
        "feed.xml",
        "whats-new.md",
        "help-wanted.md",
        "downloads/index.md",
        "_snippets/home.html",
    ):
        assert name in files


def test_paper_page_shows_its_facts(real):
    cat, files = real
    paper = cat.papers["zhang2020gmi"]
    text = files["papers/zhang2020gmi.md"]
    assert paper.title in text
    assert f"https://doi.org/{paper.doi}" in text
    assert f"https://arxiv.org/abs/{paper.arxiv}" in text
    assert "@inproceedings" in text and "zhang2020gmi" in text
    assert "This entry: <code>catalog/papers/zhang2020gmi.yaml</code>" in text  # no repo_url in mkdocs.yml yet
    for term in paper.attack_family:
        assert f'href="../taxonomy/attack_family/{term}.html"' in text
    for did in paper.datasets:
        assert f'href="../datasets/{did}.html"' in text


def test_front_matter_is_yaml_and_title_is_escaped(real):
    _, files = real
    for rel, text in files.items():
        if rel.endswith(".md"):
            front = text.split("---\n")[1]
            meta = yaml.safe_load(front)
            assert "<" not in meta["title"], rel


def test_facet_pages_list_their_papers(real):
    cat, files = real
    for facet in FACETS:
        text = files[f"taxonomy/{facet}/index.md"]
        listed = set(re.findall(r'href="\.\./\.\./papers/([^"]+)\.html"', text))
        assert listed == {pid for pid, p in cat.papers.items() if getattr(p, facet)}, facet
    seed = files["taxonomy/seed_section/index.md"]
    for pid, paper in cat.papers.items():
        for term in paper.seed_section:  # each paper sits in its own section's table
            section = re.split(rf'<h\d><a href="{term}\.html">', seed)[1].split("<h", 1)[0]
            assert f"papers/{pid}.html" in section, (pid, term)


@pytest.mark.parametrize(
    ("from_page", "to", "expected"),
    [
        ("generated/papers/a.md", "generated/taxonomy/modality/image.md", "../taxonomy/modality/image.html"),
        ("generated/taxonomy/index.md", "generated/taxonomy/modality/index.md", "modality/index.html"),
        ("index.md", "explore.md", "explore.html"),
        ("index.md", "generated/figures/x.svg", "generated/figures/x.svg"),
        ("generated/whats-new.md", "generated/feed.xml", "feed.xml"),
        ("generated/papers/a.md", "generated/papers/a.md", "a.html"),
        ("generated/datasets/index.md", "index.md", "../../index.html"),
    ],
)
def test_href_is_relative_between_html_files(from_page, to, expected):
    assert pages.href(from_page, to) == expected


HOSTILE = {
    "title": '<script>alert("t")</script> {{ 7*7 }} {% raw %} *x* [l](javascript:alert(1))',
    "tldr": 'fine\n--8<-- "/etc/passwd"\n<img src=x onerror=alert(1)> &amp; {# c #}',
    "authors": ["<b>Bold</b> Author", "Eve \"Quote' Mallory"],
}


def _hostile_paper(cat) -> Paper:
    base = next(iter(cat.papers.values())).model_dump()
    base.update(HOSTILE, code=["javascript:alert(1)"], url="javascript:alert(2)")
    return Paper.model_construct(**base)  # skips validation on purpose: tests the second lock


def test_hostile_text_is_escaped_even_past_the_validator(catalog_root):
    cat = load_catalog(catalog_root)
    cat.papers = {"doe2021example": _hostile_paper(cat)}
    files = pages.render_site(cat, catalog_root)
    for rel in ("papers/doe2021example.md", "taxonomy/attack_family/generative-prior.md", "whats-new.md"):
        text = files[rel]
        body = text.split("---\n", 2)[2]
        assert "<script" not in text and "<img" not in text and "<b>" not in text, rel
        assert "&lt;script&gt;" in body, rel
        assert "javascript:" not in re.findall(r'href="([^"]*)"', body), rel
        assert not any(line.lstrip().startswith("--8<--") for line in body.splitlines()), rel
        assert "{{" not in body and "{%" not in body and "{#" not in body, rel
        # Rendered as MkDocs would, the block stays one escaped HTML block (no Markdown, no snippet).
        html = markdown.markdown(
            body,
            extensions=["pymdownx.snippets"],
            extension_configs={"pymdownx.snippets": {"check_paths": True, "base_path": ["/none"]}},
        )
        assert "<script" not in html and "<em>x</em>" not in html
    assert b"<script" not in files["feed.xml"] if isinstance(files["feed.xml"], bytes) else True
    ET.fromstring(files["feed.xml"])  # still well-formed XML


def test_an_entry_with_unverified_facts_says_so(catalog_root):
    cat = load_catalog(catalog_root)
    known = cat.papers["doe2021example"]
    cat.papers["doe2021example"] = known.model_copy(
        update={"authors": [], "tldr": None, "unverified": ["authors", "tldr"]}
    )
    files = pages.render_site(cat, catalog_root)
    page = files["papers/doe2021example.md"]
    assert "Authors not yet verified" in page and "Incomplete entry" in page
    assert "confirms the author list or what the paper does" in page
    assert 'class="mi-tldr"' not in page and "author =" not in page
    assert "[authors not verified] (2021). An Example Attack on Example Models. CVPR." in page
    assert 'mi-incomplete">incomplete' in page
    wanted = files["help-wanted.md"]
    assert 'href="papers/doe2021example.html">An Example Attack on Example Models</a>' in wanted
    assert "<td>CVPR</td><td>authors, summary</td>" in wanted
    entry = ET.fromstring(files["feed.xml"]).find("{http://www.w3.org/2005/Atom}entry")
    assert entry.find("{http://www.w3.org/2005/Atom}author") is None  # the feed's own author stands in
    assert entry.find("{http://www.w3.org/2005/Atom}summary") is None
    # A complete entry shows none of this.
    cat.papers["doe2021example"] = known
    page = pages.render_site(cat, catalog_root)["papers/doe2021example.md"]
    assert "Incomplete entry" not in page and "Jane Doe, John Roe" in page
    assert "doe2021example" not in pages.render_site(cat, catalog_root)["help-wanted.md"]
    # Unrecorded experiments are wanted too, except from a survey, which runs none.
    cat.papers["doe2021example"] = known.model_copy(update={"metrics": []})
    files = pages.render_site(cat, catalog_root)
    assert "1 papers do not yet list" in files["help-wanted.md"].split('id="experiments"')[1]
    assert "<td>CVPR</td><td>metrics</td>" in files["help-wanted-experiments.md"]
    cat.papers["doe2021example"] = known.model_copy(update={"metrics": [], "datasets": [], "kind": "survey"})
    files = pages.render_site(cat, catalog_root)
    assert "doe2021example" not in files["help-wanted.md"] + files["help-wanted-experiments.md"]


def test_docstrings_render_markdown_without_raw_html():
    html = pages.docstring_html(
        "Idea: **bold** and `code` with $x_i^2$.\n\n<script>alert(1)</script>\n\n1. one\n2. two"
    )
    assert "<strong>bold</strong>" in html and "<ol>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline" alttext="x_i^2">' in html
    assert "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>" in html


def test_docstring_tables_become_html_tables():
    html = pages.docstring_html("| setting | PSNR |\n|---|---:|\n| none | 36.3 |\n| $P = 4$ | <b>x</b> |")
    assert "<table>" in html and "<th>setting</th>" in html and '<td style="text-align: right;">36.3</td>' in html
    assert "<math" in html and "<b>" not in html  # math inside a cell still renders; raw HTML stays escaped


def test_inline_math_may_wrap_onto_the_next_line(real):
    # Six module pages showed raw TeX ("$\\mathcal L = \\mathrm{CE} + ...") where a docstring wrapped an
    # inline formula over a line break; a blank line still ends a formula's search.
    out = pages.docstring_html("loss $\\mathcal L = a +\n  b$ here, and $5 then\n\n$10 there")
    assert out.count("<math") == 1 and 'alttext="\\mathcal L = a +' in out and "$5 then" in out
    _, files = real
    for name in refcode.read_modules(REPO):
        page = files[f"reference/{name}.md"]
        prose = re.sub(r'<math.*?</math>|<code class="mi-math">.*?</code>|<div class="highlight">.*?</div>', "", page, flags=re.S)
        assert "$" not in prose, name


def test_math_becomes_mathml_and_hostile_or_broken_tex_stays_escaped_source():
    out = pages.docstring_html("$$a \\odot b$$ and $\\text{<img src=x onerror=alert(1)>}$ and $x^$")
    assert 'display="block"' in out and "<mo>\u2299</mo>" in out
    # latex2mathml copies \text{...} through unescaped: such output is refused, not emitted.
    assert "<img" not in out and "onerror=alert(1)&gt;" in out
    assert '<code class="mi-math">$\\text{&lt;img src=x onerror=alert(1)&gt;}$</code>' in out
    assert '<code class="mi-math">$x^$</code>' in out  # TeX it cannot parse: shown as source
    argmin = pages.math_text("$x^\\star = \\arg\\min_z f(z)$")  # latex2mathml lacks \\arg: rewritten
    assert '<mi mathvariant="normal">a</mi><mi mathvariant="normal">r</mi>' in argmin and "mi-math" not in argmin
    assert "\\" not in re.sub(r'alttext="[^"]*"', "", argmin)  # a backslash only in the TeX source kept for readers
    quoted = pages.math_text('$\\text{a" onmouseover="x}$')
    assert 'alttext="\\text{a&quot; onmouseover=&quot;x}"' in quoted  # nor can an attribute be broken out of


CELL = {
    "attack": "DLG",
    "attack_module": "mi_ref.other",
    "attack_papers": [],
    "attacker": "defense-aware",
    "defense": "Noise <b>",
    "setting": "sigma=0.1",
    "defense_module": "mi_ref.toy",
    "defense_papers": [],
    "metric": "psnr",
    "value": 12.3456,
    "undefended": 30.0,
    "utility_metric": "test-acc",
    "utility": 0.9,
    "utility_undefended": 0.95,
    "secondary": {},
}


def test_core_region_and_results_hook(tmp_path):
    mod = tmp_path / "mi_ref"
    mod.mkdir()
    (mod / "toy.py").write_text(
        '"""Toy: a docstring."""\nPAPERS = ("doe2021example",)\nx = 1\n'
        "# --- core ---\ndef f():\n    return 2\n# --- end core ---\ny = 3\n",
        encoding="utf-8",
    )
    (mod / "harness.py").write_text('"""Shared."""\n', encoding="utf-8")
    modules = refcode.read_modules(tmp_path)
    assert list(modules) == ["toy"]
    assert modules["toy"].papers == ("doe2021example",)
    assert modules["toy"].core == ["def f():\n    return 2"]
    assert refcode.reference_results(tmp_path, "toy") == []
    (mod / "results").mkdir()
    other = CELL | {"defense_module": "mi_ref.elsewhere", "attack_module": "mi_ref.elsewhere"}
    (mod / "results" / "matrix.json").write_text(
        json.dumps({"format_version": 1, "cells": [CELL, other]}), encoding="utf-8"
    )
    assert refcode.reference_results(tmp_path, "toy") == [CELL]
    (mod / "results" / "matrix.json").write_text(json.dumps({"format_version": 2, "cells": []}), encoding="utf-8")
    with pytest.raises(refcode.ModuleError, match="format_version 2"):
        refcode.reference_results(tmp_path, "toy")
    (mod / "results" / "matrix.json").write_text(
        json.dumps({"format_version": 1, "cells": [{"attack": "x"}]}), encoding="utf-8"
    )
    with pytest.raises(refcode.ModuleError, match=r"cells\[0\] lacks attack_module"):
        refcode.reference_results(tmp_path, "toy")


def test_module_page_renders_reference_results_when_present(catalog_root):
    mod = catalog_root / "mi_ref"
    (mod / "results").mkdir(parents=True)
    (mod / "toy.py").write_text('"""Toy: **idea**."""\nPAPERS = ("doe2021example",)\n', encoding="utf-8")
    cat = load_catalog(catalog_root)
    files = pages.render_site(cat, catalog_root)
    assert "Reference results" not in files["reference/toy.md"] and "<strong>idea</strong>" in files["reference/toy.md"]
    assert "reference/results.md" not in files
    (mod / "results" / "matrix.json").write_text(json.dumps({"format_version": 1, "cells": [CELL]}), encoding="utf-8")
    (mod / "results" / "toy.png").write_bytes(b"\x89PNG fake")
    files = pages.render_site(cat, catalog_root)
    page = files["reference/toy.md"]
    assert "Reference results" in page and "<td>12.3</td><td>30</td>" in page
    assert "Noise &lt;b&gt;" in page and 'href="../metrics/toymetric.html"' not in page  # psnr is not in this catalogue
    assert 'src="toy.png"' in page and files["reference/toy.png"] == b"\x89PNG fake"
    assert 'href="../papers/doe2021example.html"' in page
    assert ">12.3</td>" in files["reference/results.md"]


def test_unclosed_core_region_is_a_clear_error(tmp_path):
    (tmp_path / "mi_ref").mkdir()
    (tmp_path / "mi_ref" / "bad.py").write_text('"""Bad."""\n# --- core ---\nx = 1\n', encoding="utf-8")
    with pytest.raises(refcode.ModuleError, match="never closed"):
        refcode.read_modules(tmp_path)


def test_module_page_shows_code_from_the_file(real):
    _, files = real
    for name, mod in refcode.read_modules(REPO).items():
        text = files[f"reference/{name}.md"]
        assert f"python -m mi_ref.{name}" in text
        if not mod.core:
            continue
        shown = text.split('<div data-search-exclude="1">', 1)[1].split("</pre>", 1)[0]
        shown = html.unescape(re.sub(r"<[^>]+>", "", shown))
        for region in mod.core:
            assert region.strip() in shown, name


def test_explore_data_decodes_to_the_catalogue(real):
    cat, files = real
    data = json.loads(files["explore.json"])
    ids = [f["id"] for f in data["facets"]]
    assert ids == list(explore.EXPLORE_FACETS)
    assert len(data["papers"]) == len(cat.papers)
    for row in data["papers"]:
        paper = cat.papers[row[0]]
        assert (row[1], row[3]) == (paper.title, paper.year)
        assert data["venues"][row[4]][0] == paper.venue
        assert bool(row[5] & explore.CODE) == bool(paper.code)
        assert bool(row[5] & explore.REFERENCE) == bool(paper.implementation)
        for k, facet in enumerate(data["facets"]):
            got = sorted(facet["values"][i][0] for i in row[6 + k])
            want = [paper.kind] if facet["id"] == "kind" else sorted(getattr(paper, facet["id"]))
            assert got == want, (paper.id, facet["id"])


def test_matrix_and_figures_count_the_catalogue(real):
    cat, files = real
    matrix = figures.modality_setting_matrix(cat, "explore.html")
    settings = [sid for _, sid in matrix.columns]
    for (label, cells), mid in zip(matrix.rows, cat.terms["modality"]):
        for (count, url), sid in zip(cells, settings):
            expected = sum(1 for p in cat.papers.values() if mid in p.modality and sid in p.setting)
            assert count == expected and url == f"explore.html?modality={mid}&setting={sid}"
    svg = ET.fromstring(files["figures/papers-per-year-by-kind.svg"])
    legend = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text") if t.text and "(" in t.text]
    kinds = Counter(p.kind for p in cat.papers.values())
    assert sorted(legend) == sorted(f"{k} ({n})" for k, n in kinds.items())


def test_write_tree_writes_changes_and_removes_stale_files(tmp_path):
    assert build.write_tree(tmp_path, {"a/x.md": "1", "b.txt": b"2"}) == (2, 0)
    assert build.write_tree(tmp_path, {"a/x.md": "1", "c.md": "3"}) == (1, 1)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == ["a/x.md", "c.md"]


def test_generation_refuses_a_catalogue_with_problems(tmp_path, capsys):
    root = write_catalog(tmp_path)
    (root / "catalog" / "papers" / "doe2021example.yaml").write_text("id: doe2021example\n", encoding="utf-8")
    assert build.generate(root) == 1
    assert "doe2021example.yaml" in capsys.readouterr().err
    assert not (root / "site" / "generated").exists()


def test_no_torch_import_in_tools():
    for path in (REPO / "tools").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import torch|from torch)", text, re.MULTILINE), path


def test_help_wanted_lists_exactly_the_incomplete_entries(real):
    cat, files = real
    page = files["help-wanted.md"]
    unverified, experiments = page.split('id="experiments"')
    listed = set(re.findall(r'href="papers/([a-z0-9-]+)\.html"', unverified))
    assert listed == {pid for pid, p in cat.papers.items() if p.unverified}
    wanted = {pid for pid, p in cat.papers.items() if p.kind != "survey" and not (p.datasets and p.metrics)}
    assert f"{len(wanted)} papers do not yet list" in experiments
    # The thousand papers without recorded experiments have their own page (they made Help wanted ~0.5 MB);
    # Help wanted says how many and links there.
    assert not re.findall(r'href="papers/([a-z0-9-]+)\.html"', experiments.split('id="leads"')[0])
    assert 'href="help-wanted-experiments.html"' in experiments
    own = files["help-wanted-experiments.md"]
    assert set(re.findall(r'href="papers/([a-z0-9-]+)\.html"', own)) == wanted
    assert f"{len(wanted)} papers do not yet list" in own and 'href="help-wanted.html"' in own
    assert 'id="mi-experiments"' in own and 'id="mi-experiments"' not in page


def test_metric_definition_renders_its_math(catalog_root):
    # LaTeX read as prose ("$\mathrm{PSNR} = ...$ where MAX is") was unreadable: $...$ spans become
    # MathML, as on module pages, and the prose around them stays escaped text.
    metric = catalog_root / "catalog" / "metrics" / "toymetric.yaml"
    metric.write_text(
        metric.read_text(encoding="utf-8").replace('definition: "$t = 1$"', 'definition: "$t < 1$ where t is toy."'),
        encoding="utf-8",
    )
    page = pages.render_site(load_catalog(catalog_root), catalog_root)["metrics/toymetric.md"]
    assert "<mi>t</mi><mo>&lt;</mo><mn>1</mn></mrow></math></span> where t is toy." in page


def test_module_docstring_links_the_papers_it_names(real):
    _, files = real
    mod = refcode.read_modules(REPO)["gradient_inversion"]
    assert "`zhu2019dlg`" in mod.docstring
    page = files["reference/gradient_inversion.md"]
    assert '<a href="../papers/zhu2019dlg.html"><code>zhu2019dlg</code></a>' in page
    # Code that is not a paper ID stays plain code.
    out = pages.docstring_html("`zhu2019dlg` and `x.grad`", lambda pid: "p.html" if pid == "zhu2019dlg" else None)
    assert '<a href="p.html"><code>zhu2019dlg</code></a>' in out and "<code>x.grad</code>" in out


def test_help_wanted_edit_links_name_their_paper(real_with_repo):
    # Hundreds of links all called "edit" tell a screen-reader user nothing in a links list.
    cat, files = real_with_repo
    page = files["help-wanted.md"]
    pid = next(pid for pid, p in cat.papers.items() if p.unverified)
    title = html.escape(cat.papers[pid].title)
    assert f'<a href="{REPO_URL}/edit/main/catalog/papers/{pid}.yaml" aria-label="Edit the entry of {title}">edit</a>' in page
    assert page.count(">edit</a>") == page.count('aria-label="Edit the entry of ') > 0  # every one of them
    assert files["help-wanted-experiments.md"].count(">edit</a>") > 0


def test_links_into_the_repository_only_when_its_address_is_set(real, real_with_repo):
    # mkdocs.yml's repo_url was a made-up placeholder: Material showed it in every page's header (and asked
    # GitHub's API about it) and thousands of edit and source links led nowhere. Unset, no page links into
    # the repository; pages name the file instead. Set, the links come back.
    cat, files = real
    pid = next(pid for pid, p in cat.papers.items() if p.unverified)
    text = "".join(v for v in files.values() if isinstance(v, str))
    assert "github.com/mi-catalogue" not in text and 'href="#"' not in text and "/edit/main/" not in text
    assert f"complete this entry (<code>catalog/papers/{pid}.yaml</code> in the repository)" in files[f"papers/{pid}.md"]
    assert "<th>Edit</th>" not in files["help-wanted.md"] + files["help-wanted-experiments.md"]
    assert "<code>catalog/coverage/screened.tsv</code>" in files["help-wanted.md"]
    assert "<code>mi_ref/gradient_inversion.py</code> in the repository" in files["reference/gradient_inversion.md"]
    _, linked = real_with_repo
    assert f'<a href="{REPO_URL}/edit/main/catalog/papers/{pid}.yaml">complete this entry</a>' in linked[f"papers/{pid}.md"]
    assert f'<a href="{REPO_URL}/edit/main/catalog/papers/zhang2020gmi.yaml">Edit this entry</a>' in linked["papers/zhang2020gmi.md"]
    assert f'href="{REPO_URL}/blob/main/catalog/coverage/screened.tsv"' in linked["help-wanted.md"]
    assert f'href="{REPO_URL}/blob/main/mi_ref/gradient_inversion.py"' in linked["reference/gradient_inversion.md"]
    assert f'href="{REPO_URL}/blob/main/mi_ref/metrics.py"' in linked["metrics/psnr.md"]


def test_contributing_guide_is_a_page_of_the_site(tmp_path):
    root = write_catalog(tmp_path)
    (root / "mkdocs.yml").write_text((REPO / "mkdocs.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (root / "CONTRIBUTING.md").write_text(
        "# Contributing\n\n## Add a paper\n\nSee [the catalogue](catalog/README.md) and [us](https://x.org/).\n",
        encoding="utf-8",
    )
    files = pages.render_site(load_catalog(root), root)
    page = files["contributing.md"]
    assert page.startswith("---\ntitle: Contributing\n---\n") and "## Add a paper" in page
    # Without repo_url a link into the repository keeps its text and names the file; an absolute one is kept.
    assert "See the catalogue (`catalog/README.md`) and [us](https://x.org/)." in page
    # With it, a link into the repository goes to the repository.
    page = pages.render_site(load_catalog(root), root, config={"repo_url": REPO_URL})["contributing.md"]
    assert f"[the catalogue]({REPO_URL}/blob/main/catalog/README.md)" in page and "](https://x.org/)" in page
    assert 'href="contributing.html#add-a-paper"' in files["help-wanted.md"]
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    assert {"Contributing": "generated/contributing.md"} in next(i["About"] for i in config["nav"] if "About" in i)
    (root / "CONTRIBUTING.md").unlink()  # without the file, the page points to the repository
    assert "<code>CONTRIBUTING.md</code> in the repository" in pages.render_site(load_catalog(root), root)["contributing.md"]
    with_repo = pages.render_site(load_catalog(root), root, config={"repo_url": REPO_URL})["contributing.md"]
    assert f"{REPO_URL}/blob/main/CONTRIBUTING.md\">CONTRIBUTING.md</a> in the repository" in with_repo


def test_term_pages_are_searchable_but_their_paper_tables_are_not(real):
    _, files = real
    page = files["taxonomy/attack_family/gradient-inversion.md"]
    meta = yaml.safe_load(page.split("---")[1])
    assert meta["search"] == {"boost": pages.TOP_TERM_BOOST}  # indexed (no exclude), ranked above single papers
    child = yaml.safe_load(files["taxonomy/attack_family/gradient-analytic.md"].split("---")[1])
    assert child["search"] == {"boost": pages.TERM_BOOST} and pages.TERM_BOOST < pages.TOP_TERM_BOOST
    assert "exclude" not in yaml.safe_load(files["taxonomy/attack_family/index.md"].split("---")[1]).get("search", {})
    for table in re.findall(r"<table[^>]*>", page + files["taxonomy/attack_family/index.md"]):
        assert 'data-search-exclude="1"' in table


def test_paper_links_do_not_repeat_the_doi_or_arxiv_page(catalog_root):
    # 802 of 1,280 pages once listed "Paper" and "arXiv ..." (or "DOI ...") leading to the same page.
    path = catalog_root / "catalog" / "papers" / "doe2021example.yaml"
    original = path.read_text(encoding="utf-8")

    def links(url: str) -> str:
        path.write_text(original.replace("url: https://example.org/paper", f"url: {url}"), encoding="utf-8")
        page = pages.render_site(load_catalog(catalog_root), catalog_root)["papers/doe2021example.md"]
        return re.search(r"<dt>Links</dt><dd>(.*?)</dd>", page).group(1)

    assert ">Paper</a>" not in links("http://arxiv.org/pdf/2101.00001v2.pdf")
    assert ">Paper</a>" not in links("https://dx.doi.org/10.1109/cvpr46437.2021.00001")
    shown = links("https://example.org/paper")
    assert shown.index(">Paper</a>") < shown.index(">DOI 10.1109") < shown.index(">arXiv 2101.00001</a>")


def test_no_paper_page_links_one_place_twice(real):
    cat, files = real
    for pid in cat.papers:
        block = re.search(r"<dt>Links</dt><dd>(.*?)</dd>", files[f"papers/{pid}.md"]).group(1)
        targets = [
            re.sub(
                r"(v\d+)?(\.pdf)?$", "", h.split("://")[-1].removeprefix("www.").rstrip("/").replace("/pdf/", "/abs/")
            )
            .replace("dx.doi.org", "doi.org")
            .casefold()
            for h in re.findall(r'<a href="([^"]+)"', block)
        ]
        assert len(targets) == len(set(targets)), (pid, targets)
