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
import unicodedata
from pathlib import Path

import pytest
import yaml

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
BUILT: dict[str, Path] = {}  # "site": the folder the `site` fixture serves
TIMEOUT_MS = 15_000


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = build.copy_sources(REPO, tmp_path_factory.mktemp("browser"))
    assert build.build(root) == 0
    BUILT["site"] = root / "build" / "site"
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


def test_pages_ask_no_other_host_for_anything(page, site):
    # With a repo_url, Material asks GitHub's API for the repository's stars on every page; the address
    # was a placeholder, so each visit sent a request to a repository that does not exist.
    base, _ = site
    if yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8")).get("repo_url"):
        pytest.skip("a real repo_url is set: Material may ask its host for the star count")
    elsewhere = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(base) else None)
    for path in ("index.html", f"generated/papers/{KNOWN}.html", "generated/help-wanted.html"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
    assert elsewhere == []
    assert page.locator("[data-md-component='source']").count() == 0
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


def search(page, base: str, query: str) -> list[str]:
    """The result links Material's search box shows for a query, best first."""
    page.goto(base)
    page.wait_for_load_state("load")
    page.keyboard.press("/")  # Material's shortcut to the search box
    page.locator(".md-search-result__meta", has_text="Type to start searching").wait_for(state="attached")
    page.locator("input.md-search__input").press_sequentially(query, delay=20)
    page.locator(".md-search-result__item").first.wait_for()
    page.wait_for_timeout(200)  # results for the last keystroke
    return page.locator(".md-search-result__item > a").evaluate_all("as => as.map(a => a.getAttribute('href'))")


def test_search_finds_terms_papers_authors_and_records(page, site):
    # After the index was trimmed (no tables, badges or navigation), what people search for is still found;
    # a term's own page ranks above its sub-terms, whose titles hold the same words.
    base, cat = site
    assert "generated/taxonomy/attack_family/gradient-inversion.html" in search(page, base, "gradient inversion")[0]
    assert any("generated/papers/morris2023vec2text.html" in h for h in search(page, base, "vec2text"))
    assert "Matt Fredrikson" in cat.papers["fredrikson2015mi"].authors
    assert any("generated/papers/fredrikson2015mi.html" in h for h in search(page, base, "Fredrikson"))
    assert any("generated/datasets/celeba.html" in h for h in search(page, base, "CelebA")[:3])
    assert any("generated/metrics/psnr.html" in h for h in search(page, base, "PSNR")[:3])
    assert page.errors == []


def test_search_index_loads_only_when_a_reader_goes_for_search(page, site):
    # The index is most of a first visit's bytes (1.2 MB, 380 KB gzipped), and most readers never search:
    # it is fetched when the reader goes for the search box, and search then works as before.
    base, cat = site
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if r.url.endswith("search/search_index.json") else None)
    for path in ("index.html", f"generated/papers/{KNOWN}.html"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
    assert fetched == []
    assert any("generated/papers/morris2023vec2text.html" in h for h in search(page, base, "vec2text"))
    assert len(fetched) == 1
    # On a phone the search button opens it.
    phone = page.context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(base + "generated/taxonomy/index.html")
    phone.wait_for_load_state("networkidle")
    assert len(fetched) == 1
    phone.locator("label.md-header__button[for='__search']").click()
    phone.locator(".md-search-result__meta", has_text="Type to start searching").wait_for(state="attached")
    phone.locator("input.md-search__input").press_sequentially("Fredrikson", delay=20)
    phone.locator(".md-search-result__item a[href*='fredrikson2015mi.html']").first.wait_for()
    # A page opened from a search result gets the index at once, to highlight the words searched for.
    opened = page.context.new_page()
    opened.on("request", lambda r: fetched.append(r.url) if r.url.endswith("search/search_index.json") else None)
    opened.goto(base + f"generated/papers/{KNOWN}.html?h=revealer")
    opened.locator("article mark", has_text="Revealer").first.wait_for()
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


def test_explore_text_filter_searches_summaries_once_they_load(page, site):
    base, cat = site
    word = "vec2text"
    in_title = {pid for pid, p in cat.papers.items() if word in " ".join([p.title, *p.authors]).lower()}
    in_summary = {pid for pid, p in cat.papers.items() if p.tldr and word in p.tldr.lower()} - in_title
    assert in_summary, "some paper should name vec2text only in its summary"
    summaries_fetched = []
    page.on("request", lambda r: summaries_fetched.append(r.url) if "explore-summaries.json" in r.url else None)
    page.goto(base + "explore.html")
    page.locator("#mi-explore-results tbody tr").first.wait_for()
    assert summaries_fetched == []  # not fetched until someone types
    page.locator("input[name='q']").fill(word)
    want = in_title | in_summary
    page.locator(".mi-explore-count", has_text=f"{len(want)} of {len(cat.papers)} papers").wait_for()
    assert shown_ids(page) == want
    assert len(summaries_fetched) == 1
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


PHONE = {"width": 390, "height": 844}
# WCAG AA contrast of a text element against what is behind it (semi-transparent backgrounds blended
# down to the page's white), computed in the page.
CONTRAST_JS = """e => {
  const rgba = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const layers = [];
  for (let n = e; n; n = n.parentElement) {
    const c = rgba(getComputedStyle(n).backgroundColor);
    if (c.length && (c[3] ?? 1) > 0) { layers.push(c); if ((c[3] ?? 1) >= 1) break; }
  }
  let bg = [255, 255, 255];
  for (const c of layers.reverse()) { const a = c[3] ?? 1; bg = bg.map((v, i) => v * (1 - a) + c[i] * a); }
  const f = rgba(getComputedStyle(e).color), a = f[3] ?? 1;
  const fg = bg.map((v, i) => f[i] * a + v * (1 - a));
  const lum = c => c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


def test_no_page_scrolls_sideways_on_a_phone(page, site):
    # Material frames and scrolls only class-less tables; ours (paper lists, facts, results, the home
    # matrix) once pushed whole pages sideways on a phone. A wide table now scrolls inside itself.
    base, _ = site
    page.set_viewport_size(PHONE)
    for path in (
        "index.html",
        "explore.html",
        f"generated/papers/{KNOWN}.html",
        "generated/taxonomy/setting/federated.html",
        "generated/metrics/psnr.html",
        "generated/reference/gradient_inversion.html",
        "generated/reference/deepinversion.html",  # a display formula wider than a phone
        "generated/reference/feature_defenses.html",  # an inline one
        "generated/reference/results.html",
        "generated/help-wanted.html",
        "generated/help-wanted-experiments.html",
    ):
        page.goto(base + path)
        page.wait_for_load_state("load")
        wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert wide <= 0, f"{path} is {wide}px wider than a phone's screen"
    assert page.errors == []


def test_index_tables_fit_a_phone_without_sideways_scrolling(page, site):
    # The datasets index's name column took half a phone's width and pushed Usual roles and Papers out of
    # sight (the table scrolled inside itself). On a phone each row is now a card that fits the screen.
    base, cat = site
    page.set_viewport_size(PHONE)
    for kind, count in (("datasets", len(cat.datasets)), ("metrics", len(cat.metrics)), ("taxonomy", None)):
        page.goto(base + f"generated/{kind}/index.html")
        table = page.locator(".mi-index table")
        assert table.evaluate("t => t.scrollWidth - t.clientWidth") <= 0, kind
        assert table.evaluate("t => t.getBoundingClientRect().right") <= PHONE["width"], kind
        papers = page.locator(".mi-index tbody td[data-label='Papers']")
        assert count is None or papers.count() == count
        assert papers.last.evaluate("e => e.getBoundingClientRect().right") <= PHONE["width"], kind
        label = papers.last.evaluate("e => getComputedStyle(e, '::before').content")
        assert label not in ("none", "normal", ""), kind  # each value says which column it is
    # The headings stay sort buttons: sort the datasets by paper count.
    page.goto(base + "generated/datasets/index.html")
    page.get_by_role("button", name="Papers").click()
    counts = [int(t) for t in page.locator(".mi-index tbody td[data-label='Papers']").all_inner_texts()]
    assert counts == sorted(counts) and len(set(counts)) > 1
    assert page.errors == []


def test_paper_tables_are_cards_on_a_phone(page, site):
    # Four columns on a phone left the title a 100px column, one word a line, and pushed the badges out of
    # sight. Each paper is a card there: the title across the card, year, venue and badges below it.
    base, _ = site
    page.set_viewport_size(PHONE)
    for path in ("generated/taxonomy/setting/federated.html", "explore.html", "generated/whats-new.html"):
        page.goto(base + path)
        page.locator("table.mi-papers tbody tr").first.wait_for()
        table = page.locator("table.mi-papers").first
        assert table.evaluate("t => t.scrollWidth - t.clientWidth") <= 0, path
        # Per cell of the first row: [holds the paper's link, width, top, right]; and the row's width.
        cells = table.locator("tbody tr").first.evaluate(
            "tr => [tr.getBoundingClientRect().width, [...tr.cells].map(td => { const r = td.getBoundingClientRect();"
            " return [!!td.querySelector('a[href$=\".html\"]'), r.width, r.top, r.right]; })]"
        )
        row_width, cells = cells
        title = next(c for c in cells if c[0])
        assert title[1] >= 0.8 * row_width, path
        assert all(title[2] < c[2] for c in cells if c is not title), path  # the title first, on its own line
        assert all(c[3] <= PHONE["width"] for c in cells), path
    # Help wanted's leads have the paper in the first column, why it is waiting in the second.
    page.goto(base + "generated/help-wanted.html")
    tops = page.locator("#mi-leads tbody tr").first.evaluate("tr => [...tr.cells].map(td => td.getBoundingClientRect().top)")
    assert tops == sorted(tops) and tops[0] < tops[1] < tops[2]
    assert page.errors == []


def test_figures_keep_readable_labels_on_a_phone(page, site):
    # Shrunk to a phone's width, the home figures' 12px labels came out 5px tall. They keep their drawn
    # size and scroll inside their frame instead, from their left edge, without moving the page.
    base, _ = site
    page.set_viewport_size(PHONE)
    page.goto(base)
    page.wait_for_load_state("load")
    for i in range(page.locator("figure.mi-figure").count()):
        figure = page.locator("figure.mi-figure").nth(i)
        img = figure.locator("img")
        assert img.evaluate("i => i.getBoundingClientRect().width") == int(img.get_attribute("width"))
        assert figure.evaluate("f => f.getBoundingClientRect().right") <= PHONE["width"]
        assert img.evaluate("i => i.getBoundingClientRect().left - i.parentElement.getBoundingClientRect().left") >= 0
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


def test_module_titles_break_between_words_on_a_phone(page, site):
    base, _ = site
    page.set_viewport_size(PHONE)
    page.goto(base + "generated/reference/training_data_extraction.html")
    title = page.locator("h1 code")
    assert title.inner_text() == "mi_ref.training_data_extraction"
    # Each piece between the break points sits on one line: no word is cut.
    lines = title.evaluate(
        "c => [...c.childNodes].filter(n => n.nodeType === 3).map(n => { const r = document.createRange();"
        " r.selectNodeContents(n); return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })"
    )
    assert lines and all(n == 1 for n in lines), lines
    assert title.evaluate("c => c.getBoundingClientRect().right") <= PHONE["width"]


def test_paper_facts_stack_on_a_phone(page, site):
    base, _ = site
    page.goto(base + f"generated/papers/{KNOWN}.html")
    left = "e => Math.round(e.getBoundingClientRect().left)"
    dt, dd = page.locator("dl.mi-facts dt").first, page.locator("dl.mi-facts dd").first
    assert dd.evaluate(left) > dt.evaluate(left)  # two columns on a wide screen
    page.set_viewport_size(PHONE)
    assert dd.evaluate(left) == dt.evaluate(left)  # name above value on a phone, not a squeezed column


def test_badges_and_matrix_numbers_are_readable(page, site):
    base, _ = site
    page.goto(base + "conventions.html")
    badges = page.locator(".mi-badge")
    assert badges.count() >= 9
    for i in range(badges.count()):
        badge = badges.nth(i)
        assert badge.evaluate(CONTRAST_JS) >= 4.5, badge.inner_text()
    page.goto(base)
    for cls in ("mi-heat-0", "mi-heat-1", "mi-heat-2", "mi-heat-3", "mi-heat-4"):
        # Each step of the scale, whether or not today's counts use it.
        ratio = page.evaluate(
            f"""() => {{ const a = document.createElement('a'); a.href = '#'; a.className = '{cls}'; a.textContent = '9';
            document.querySelector('.mi-matrix td').appendChild(a); return ({CONTRAST_JS})(a); }}"""
        )
        assert ratio >= 4.5, cls


def test_explore_values_that_match_nothing_stay_readable(page, site):
    base, _ = site
    page.goto(base + "explore.html?kind=survey&setting=federated&modality=audio")
    page.locator(".mi-explore-count").wait_for()
    zero = page.locator(".mi-explore-filters label.mi-zero")
    assert zero.count() > 0
    assert zero.first.evaluate(CONTRAST_JS) >= 4.5


def test_explore_filters_fold_away_on_a_phone_and_say_what_is_on(page, site):
    base, _ = site
    page.set_viewport_size(PHONE)
    page.goto(base + "explore.html?modality=image&code=1")
    page.locator("#mi-explore-results tbody tr").first.wait_for()
    panel = page.locator("details.mi-explore-panel")
    assert not panel.evaluate("d => d.open")
    assert page.locator(".mi-explore-count").evaluate("e => e.getBoundingClientRect().bottom") < PHONE["height"]
    assert page.locator("details.mi-explore-panel > summary").inner_text() == "Filters and sort (2 on)"
    page.locator("details.mi-explore-panel > summary").click()
    page.locator("input[data-facet='setting'][value='federated']").check()
    assert page.locator("details.mi-explore-panel > summary").inner_text() == "Filters and sort (3 on)"
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(base + "explore.html")
    page.locator("#mi-explore-results tbody tr").first.wait_for()
    assert page.locator("details.mi-explore-panel").evaluate("d => d.open")
    assert page.locator("details.mi-explore-panel > summary").inner_text() == "Filters and sort"
    assert page.errors == []


def test_explore_count_is_one_live_region_and_controls_show_keyboard_focus(page, site):
    base, cat = site
    page.goto(base + "explore.html")
    page.locator("#mi-explore-results tbody tr").first.wait_for()
    # A screen reader announces changes of a live region it already knows, not a new one put in its place.
    page.evaluate("window.miCount = document.querySelector('.mi-explore-count')")
    page.locator("input[name='code']").check()
    assert page.evaluate("document.querySelector('.mi-explore-count') === window.miCount")
    with_code = sum(1 for p in cat.papers.values() if p.code)
    assert page.locator(".mi-explore-count").inner_text() == f"{with_code} of {len(cat.papers)} papers"
    assert page.locator(".mi-explore-count").get_attribute("aria-live") == "polite"
    # Keyboard focus is visible on the text box and on a checkbox reached with Tab.
    page.locator("input[name='q']").focus()
    for steps in (0, 3):  # q, then from, to, code
        for _ in range(steps):
            page.keyboard.press("Tab")
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement); return [document.activeElement.name,"
            " s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert style[1] != "none" and style[2] > 0, style
    assert style[0] == "code"


def _first_letters(titles: list[str]) -> list[str]:
    """Each title's first letter or digit, accents folded: what an alphabetical order is judged by."""
    folded = (unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode().casefold() for t in titles)
    return [next((c for c in t if c.isalnum()), "") for t in folded]


def test_titles_sort_alphabetically_whatever_they_open_with(page, site):
    # A title opening with a quote or a bracket once sorted before "A" in Explore and after "Z" in tables.
    base, cat = site
    odd = [p for p in cat.papers.values() if not p.title[0].isalnum() and p.setting]
    assert odd, "the catalogue has titles that open with punctuation"
    page.goto(base + "explore.html?sort=title")
    page.locator("#mi-explore-results tbody tr").first.wait_for()
    shown_ids(page)  # every row
    letters = _first_letters(page.locator("#mi-explore-results tbody td:nth-child(2) > a").all_inner_texts())
    assert len(letters) == len(cat.papers) and letters == sorted(letters)
    term = odd[0].setting[0]
    page.goto(base + f"generated/taxonomy/setting/{term}.html")
    page.locator("table.mi-papers th", has_text="Title").click()
    letters = _first_letters(page.locator("table.mi-papers tbody td:nth-child(2) > a").all_inner_texts())
    assert letters == sorted(letters)


def test_whats_new_dates_stay_on_one_line_on_a_phone(page, site):
    base, _ = site
    page.set_viewport_size(PHONE)
    page.goto(base + "generated/whats-new.html")
    lines = page.locator("table.mi-papers tbody td").first.evaluate(
        "td => { const r = document.createRange(); r.selectNodeContents(td); "
        "return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
    )
    assert lines == 1


def test_generated_pages_let_the_keyboard_skip_to_their_content(page, site):
    # Material's "Skip to content" needs Markdown headings; generated pages had none, so the first Tab
    # stops were the header and every navigation link.
    base, _ = site
    for path in (f"generated/papers/{KNOWN}.html", "generated/taxonomy/setting/federated.html", "index.html"):
        page.goto(base + path)
        page.wait_for_load_state("load")
        page.keyboard.press("Tab")
        first = page.evaluate("[document.activeElement.classList.contains('md-skip'), document.activeElement.textContent.trim()]")
        assert first == [True, "Skip to content"], path
        page.keyboard.press("Enter")
        target = page.evaluate("location.hash")
        assert target and page.locator(target).count() == 1, path
        assert page.locator(target).locator("h1").count() + (page.locator(target).evaluate("e => e.tagName") == "H1") >= 1
    assert page.errors == []


def test_sortable_headings_are_buttons_a_keyboard_can_press(page, site):
    base, _ = site
    page.goto(base + "generated/taxonomy/setting/federated.html")
    heading = page.locator("table.mi-papers th", has_text="Year")
    button = heading.get_by_role("button", name="Year")
    assert button.count() == 1  # announced as something to press, not plain text
    cells = page.locator("table.mi-papers tbody tr td:first-child")
    button.focus()
    page.keyboard.press("Enter")
    years = [int(t) for t in cells.all_inner_texts()]
    assert years == sorted(years) and heading.get_attribute("aria-sort") == "ascending"
    page.keyboard.press(" ")
    assert [int(t) for t in cells.all_inner_texts()] == sorted(years, reverse=True)
    assert heading.get_attribute("aria-sort") == "descending"
    assert page.errors == []


def test_explore_opened_from_disk_says_how_to_make_it_work(page, site):
    # mkdocs.yml promises a site readable from disk; Explore's fetch() is refused there, and the bare
    # "Failed to fetch" it printed left the reader stuck.
    page.unroute("**/*")  # the fixture answers every address outside the server, file:// pages included
    page.route("http*://**/*", lambda route: route.fulfill(status=200, content_type="application/json", body="{}"))
    page.goto((BUILT["site"] / "explore.html").as_uri())
    message = page.locator("#mi-explore")
    message.filter(has_text="opened from disk").wait_for()
    assert "python -m http.server -d build/site" in message.inner_text()
    assert message.locator("a").get_attribute("href") == "generated/taxonomy/index.html"
