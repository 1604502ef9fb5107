"""The built site in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

The site is built from the real catalogue in a scratch copy and served by http.server on 127.0.0.1.
Nothing leaves the machine: requests to other hosts (Material asks GitHub's API for the repository's
star count) are answered locally with an empty JSON object.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO
from tools import export
from tools.catalog import load_catalog
from tools.site import build

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    # Locally a missing browser skips these tests; in CI (.ci/run installs it) it is a failure, so the
    # browser checks can never silently stop running.
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but Debian's chromium is missing: .ci/run should have installed it")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.browser
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KNOWN = "zhang2020gmi"  # an example record that stays in the catalogue
TIMEOUT_MS = 15_000


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = build.copy_sources(REPO, tmp_path_factory.mktemp("browser"))
    assert build.build(root) == 0
    handler = functools.partial(QuietHandler, directory=str(root / "build" / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", load_catalog(root)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site):
    base, _ = site
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base.rstrip("/"))
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(base)
            else route.fulfill(status=200, content_type="application/json", body="{}")
        ),
    )
    yield page
    context.close()


def test_home_renders_without_console_errors(page, site):
    base, cat = site
    page.goto(base)
    page.wait_for_load_state("load")
    assert "Model inversion" in page.locator("h1").first.inner_text()
    figures = page.locator(".mi-figure img")
    assert figures.count() == 3
    assert page.evaluate(
        "[...document.querySelectorAll('.mi-figure img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert f"{len(cat.papers)} papers" in page.locator(".mi-stats").inner_text()
    assert page.locator(".mi-matrix a[href='explore.html?modality=image&setting=federated']").count() == 1
    assert page.errors == []


def test_search_finds_a_paper_by_a_title_word(page, site):
    base, cat = site
    word = "Revealer"
    assert word in cat.papers[KNOWN].title
    page.goto(base)
    page.locator("label.md-search__icon, .md-search__input").first.click()
    # The index loads in a web worker; until then the box answers "Initializing search".
    page.locator(".md-search-result__meta", has_text="Type to start searching").wait_for(state="attached")
    page.locator("input.md-search__input").press_sequentially(word, delay=20)
    hit = page.locator(f".md-search-result__item a[href*='generated/papers/{KNOWN}.html']").first
    hit.wait_for()
    assert cat.papers[KNOWN].title.split(":")[0] in hit.inner_text()
    assert page.errors == []


def expected_ids(cat, **chosen) -> set[str]:
    return {pid for pid, p in cat.papers.items() if all(value in getattr(p, facet) for facet, value in chosen.items())}


def shown_ids(page) -> set[str]:
    more = page.locator("#mi-explore-results button")
    if more.count():
        more.click()
    return set(page.locator("#mi-explore-results tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)"))


def test_explore_filters_match_the_catalogue_and_the_url_keeps_the_view(page, site):
    base, cat = site
    chosen = {"modality": "image", "setting": "federated"}
    want = expected_ids(cat, **chosen)
    assert want, "the catalogue should have federated image papers"
    page.goto(base + "explore.html")
    page.locator("#mi-explore-results tbody tr").first.wait_for()
    assert len(shown_ids(page)) == len(cat.papers)
    for facet, value in chosen.items():
        page.locator(f"input[data-facet='{facet}'][value='{value}']").check()
    assert page.locator(".mi-explore-count").inner_text().startswith(f"{len(want)} of {len(cat.papers)}")
    assert shown_ids(page) == want
    url = page.url
    assert "modality=image" in url and "setting=federated" in url

    again = page.context.new_page()
    again.goto(url)
    again.locator("#mi-explore-results tbody tr").first.wait_for()
    assert shown_ids(again) == want
    assert again.locator("input[data-facet='setting'][value='federated']").is_checked()
    assert page.errors == []


def test_explore_counts_say_what_a_click_would_give(page, site):
    base, cat = site
    page.goto(base + "explore.html?modality=image")
    page.locator("#mi-explore-results tbody tr").first.wait_for()
    label = page.locator("label", has=page.locator("input[data-facet='setting'][value='federated']"))
    assert (
        label.locator(".mi-count").inner_text() == f"({len(expected_ids(cat, modality='image', setting='federated'))})"
    )


def test_bibtex_copy_button_puts_the_entry_on_the_clipboard(page, site):
    base, cat = site
    page.goto(base + f"generated/papers/{KNOWN}.html")
    block = page.locator("pre.mi-bibtex")
    block.hover()
    block.locator("button[data-md-type='copy'], .md-clipboard").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    entry = export.bibtex_entries(cat)[KNOWN]
    assert copied.strip() == entry.strip()
    assert page.errors == []


def test_term_table_sorts_by_year(page, site):
    base, _ = site
    page.goto(base + "generated/taxonomy/setting/federated.html")
    cells = page.locator("table.mi-papers tbody tr td:first-child")
    before = [int(t) for t in cells.all_inner_texts()]
    assert before == sorted(before, reverse=True) and len(set(before)) > 1
    page.locator("table.mi-papers th", has_text="Year").click()
    assert [int(t) for t in cells.all_inner_texts()] == sorted(before)
