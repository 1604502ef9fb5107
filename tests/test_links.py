"""`python -m tools links`: URL hygiene offline, and the online check against a local HTTP server.

The online tests never leave the machine: a throwaway server on 127.0.0.1 plays the web (pages that
work, move, vanish, fail once, refuse robots), and records every request it receives.
"""

from __future__ import annotations

import itertools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tools import links
from tools.cli import main

PAPER = "catalog/papers/doe2021example.yaml"


@pytest.mark.parametrize(
    "url,clean",
    [
        ("https://example.org/p?utm_source=x&utm_medium=y&id=3", "https://example.org/p?id=3"),
        (
            "https://dl.acm.org/doi/10.1145/3319535.3354261?casa_token=J81Ps-ZWXHkAAAAA:FYnXo7",
            "https://dl.acm.org/doi/10.1145/3319535.3354261",
        ),
        ("https://example.org/a?b=1&fbclid=IwAR0&c=2&gclid=Cj0", "https://example.org/a?b=1&c=2"),
        ("https://example.org/x;jsessionid=ABC123?q=1", "https://example.org/x?q=1"),
        ("https://example.org/a?UTM_Campaign=z", "https://example.org/a"),
        ("https://openreview.net/forum?id=abc", "https://openreview.net/forum?id=abc"),  # untouched
    ],
)
def test_clean_url(url: str, clean: str) -> None:
    assert links.clean_url(url) == clean


@pytest.mark.parametrize(
    "url,landing",
    [
        ("https://arxiv.org/pdf/2310.06816v2", "https://arxiv.org/abs/2310.06816"),
        ("http://arxiv.org/pdf/2001.02610.pdf", "https://arxiv.org/abs/2001.02610"),
        ("https://arxiv.org/abs/1911.07135v1", "https://arxiv.org/abs/1911.07135"),
        ("https://openreview.net/pdf?id=BRdYYyrAOR", "https://openreview.net/forum?id=BRdYYyrAOR"),
        (
            "https://openaccess.thecvf.com/content_CVPR_2020/papers/Zhang_The_Secret_Revealer_CVPR_2020_paper.pdf",
            "https://openaccess.thecvf.com/content_CVPR_2020/html/Zhang_The_Secret_Revealer_CVPR_2020_paper.html",
        ),
        (
            "https://proceedings.neurips.cc/paper/2020/file/c4ede56bbd98819ae6112b20ac6bf145-Paper.pdf",
            "https://proceedings.neurips.cc/paper/2020/hash/c4ede56bbd98819ae6112b20ac6bf145-Abstract.html",
        ),
        ("https://proceedings.mlr.press/v139/zhu21b/zhu21b.pdf", "https://proceedings.mlr.press/v139/zhu21b.html"),
        ("https://aclanthology.org/2023.emnlp-main.765.pdf", "https://aclanthology.org/2023.emnlp-main.765/"),
        ("https://dl.acm.org/doi/pdf/10.1145/3319535.3354261", "https://dl.acm.org/doi/10.1145/3319535.3354261"),
        (
            "https://ieeexplore.ieee.org/stamp/stamp.jsp?tp=&arnumber=9156705",
            "https://ieeexplore.ieee.org/document/9156705",
        ),
        (
            "https://link.springer.com/content/pdf/10.1007/s10207-023-00670-6.pdf",
            "https://doi.org/10.1007/s10207-023-00670-6",
        ),
        ("https://github.com/AI-secure/GMI-Attack", None),
        ("https://www.usenix.org/system/files/sec21-example.pdf", None),  # no landing page derivable: left alone
    ],
)
def test_landing_url(url: str, landing: str | None) -> None:
    assert links.landing_url(url) == landing


def test_canonical_url_cleans_then_finds_the_landing_page() -> None:
    url = "https://dl.acm.org/doi/pdf/10.1145/3319535.3354261?casa_token=lDNQ40-4Wa4AAAAA%3Ap9olQ3qMdDZ0n2sl"
    assert links.canonical_url(url) == "https://dl.acm.org/doi/10.1145/3319535.3354261"


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_offline_points_at_file_line_and_fix(catalog_root: Path, capsys) -> None:
    assert main(["--root", str(catalog_root), "links", "--offline"]) == 0  # the clean catalogue passes
    _edit(catalog_root, PAPER, "url: https://example.org/paper", "url: https://arxiv.org/pdf/2101.00001v2")
    _edit(
        catalog_root,
        PAPER,
        "  - https://github.com/example/attack",
        "  - https://github.com/example/attack?utm_source=twitter&tab=readme",
    )
    _edit(
        catalog_root,
        "catalog/datasets/toyset.yaml",
        "url: https://example.org/toyset",
        "url: https://example.org/toyset;jsessionid=0F3A",
    )
    capsys.readouterr()
    assert main(["--root", str(catalog_root), "links", "--offline"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        (
            "error: catalog/datasets/toyset.yaml:6: url: remove tracking/session parameters (jsessionid): "
            "use https://example.org/toyset"
        ),
        (
            f"error: {PAPER}:10: url: link to the landing page, not the PDF or a versioned copy: "
            "use https://arxiv.org/abs/2101.00001"
        ),
        (
            f"error: {PAPER}:12: code.0: remove tracking/session parameters (utm_source): "
            "use https://github.com/example/attack?tab=readme"
        ),
    ]
    assert main(["--root", str(catalog_root), "links", "--offline", "--github"]) == 1
    annotations = capsys.readouterr().out.splitlines()
    assert annotations[1] == (
        f"::error file={PAPER},line=10,title=url::link to the landing page, not the PDF or a versioned copy: "
        "use https://arxiv.org/abs/2101.00001"
    )


def test_validate_github_annotations(catalog_root: Path, capsys) -> None:
    _edit(catalog_root, PAPER, "venue: cvpr", "venue: CVRP")
    assert main(["--root", str(catalog_root), "validate", "--github"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"::error file={PAPER},line=7,title=venue::'CVRP' is not a known venue (catalog/venues.yaml); did you mean 'cvpr'?"
    ]


# --- online, against a local server ----------------------------------------------------------------------


class _Web(BaseHTTPRequestHandler):
    """Paths: /ok, /moved (301 to /ok), /track (302 to /ok?utm_source=x), /gone (404), /flaky (503 once),
    /down (always 503), /robots (403), /slow (0.3 s, for concurrency)."""

    hits: ClassVar[dict[str, int]] = {}
    times: ClassVar[list[tuple[str, float]]] = []
    inflight = 0
    max_inflight = 0
    lock = threading.Lock()

    def do_GET(self) -> None:  # http.server's naming
        cls = type(self)
        path = self.path.split("?")[0]
        with cls.lock:
            cls.hits[path] = cls.hits.get(path, 0) + 1
            cls.times.append((self.headers["Host"], time.monotonic()))
            cls.inflight += 1
            cls.max_inflight = max(cls.max_inflight, cls.inflight)
            count = cls.hits[path]
        try:
            if path == "/slow":
                time.sleep(0.3)
            status, headers = {
                "/moved": (301, {"Location": "/ok"}),
                "/track": (302, {"Location": "/ok?utm_source=x&id=7"}),
                "/gone": (404, {}),
                "/flaky": (503 if count == 1 else 200, {}),
                "/down": (503, {}),
                "/robots": (403, {}),
            }.get(path, (200, {}))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        finally:
            with cls.lock:
                cls.inflight -= 1

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def web():
    _Web.hits, _Web.times, _Web.inflight, _Web.max_inflight = {}, [], 0, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Web)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.server_address[1]
    server.shutdown()
    server.server_close()


def _checker(tmp_path: Path, **kwargs) -> links.LinkChecker:
    options = {
        "workers": 4,
        "per_host_interval": 0.0,
        "retries": 2,
        "backoff": 0.0,
        "timeout": 5.0,
        "cache_path": tmp_path / "links.json",
    }
    options.update(kwargs)
    return links.LinkChecker(**options)


def test_online_classification(web, tmp_path: Path) -> None:
    base, _ = web
    closed = f"http://127.0.0.1:{_free_port()}/nothing-listens"
    urls = [
        f"{base}/ok",
        f"{base}/moved",
        f"{base}/track",
        f"{base}/gone",
        f"{base}/flaky",
        f"{base}/down",
        f"{base}/robots",
        closed,
    ]
    results = _checker(tmp_path).check_all(urls)
    kinds = {u.removeprefix(base): r.kind for u, r in results.items()}
    assert kinds == {
        "/ok": "ok",
        "/moved": "redirect",
        "/track": "redirect",
        "/gone": "dead",
        "/flaky": "ok",
        "/down": "dead",
        "/robots": "blocked",
        closed: "dead",
    }
    assert results[f"{base}/moved"].final_url == f"{base}/ok"
    assert results[f"{base}/track"].final_url == f"{base}/ok?id=7"  # the suggestion drops the tracking parameter
    assert _Web.hits["/flaky"] == 2  # retried once, then fine
    assert _Web.hits["/down"] == 3  # first try + 2 retries, then reported
    assert _Web.hits["/gone"] == 1  # a 404 is not retried


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cache_skips_recent_successes_only(web, tmp_path: Path) -> None:
    base, _ = web
    urls = [f"{base}/ok", f"{base}/moved", f"{base}/gone"]
    first = _checker(tmp_path)
    first.check_all(urls)
    first.save_cache()
    assert first.requests_made == 3
    second = _checker(tmp_path)
    results = second.check_all(urls)
    assert second.requests_made == 1  # only the dead link is fetched again
    assert results[f"{base}/moved"].final_url == f"{base}/ok" and _Web.hits["/gone"] == 2
    expired = _checker(tmp_path, cache_days=0)
    expired.check_all(urls)
    assert expired.requests_made == 3


def test_polite_per_host_and_concurrent_across_hosts(web, tmp_path: Path) -> None:
    _, port = web
    # Two host names for the same server: each host gets its own queue, the hosts run side by side.
    urls = [f"http://{host}:{port}/slow?n={i}" for i in range(3) for host in ("127.0.0.1", "localhost")]
    _checker(tmp_path, per_host_interval=0.25, cache_path=None).check_all(urls)
    for host in ("127.0.0.1", "localhost"):
        stamps = sorted(t for h, t in _Web.times if h.startswith(host))
        assert len(stamps) == 3
        assert all(b - a >= 0.2 for a, b in itertools.pairwise(stamps))  # never faster than the interval
    assert _Web.max_inflight >= 2  # different hosts were fetched at the same time


def test_cli_online_report(web, catalog_root: Path, tmp_path: Path, capsys) -> None:
    base, _ = web
    _edit(catalog_root, PAPER, "url: https://example.org/paper", f"url: {base}/gone")
    _edit(catalog_root, PAPER, "  - https://github.com/example/attack", f"  - {base}/moved")
    _edit(catalog_root, "catalog/datasets/toyset.yaml", "url: https://example.org/toyset", f"url: {base}/ok")
    lists = catalog_root / "catalog" / "lists.yaml"
    lists.write_text(
        "\n".join(
            line if not line.strip().startswith("url:") else f"    url: {base}/ok"
            for line in lists.read_text(encoding="utf-8").splitlines()
        )
        + "\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.md"
    code = main(["--root", str(catalog_root), "links", "--report", str(report), "--per-host-interval", "0"])
    assert code == 1  # a dead link fails the run
    out = capsys.readouterr().out
    assert f"error: {PAPER}:10: url: dead link (HTTP 404): {base}/gone" in out
    assert f"warning: {PAPER}:12: code.0: {base}/moved redirects; use {base}/ok" in out
    text = report.read_text(encoding="utf-8")
    assert "1 dead, 1 to review" in text and f"| error | `{PAPER}` | 10 | url |" in text
    assert (catalog_root / ".cache" / "links.json").is_file()


def test_resolver_redirects_are_expected() -> None:
    # doi.org exists to redirect: following it is not a finding. Any other redirect is.
    assert (
        links.LinkChecker._classify("https://doi.org/10.1145/3319535.3354261", 200, "https://dl.acm.org/doi/x").kind
        == "ok"
    )
    moved = links.LinkChecker._classify("http://example.org/a", 200, "https://example.org/a?utm_medium=email")
    assert (moved.kind, moved.final_url) == ("redirect", "https://example.org/a")
    assert links.LinkChecker._classify("https://example.org/a/", 200, "https://example.org/a").kind == "ok"


def test_real_catalogue_links_are_landing_pages(capsys) -> None:
    # The same syntax check contributors get in CI, on every committed record: no PDFs, versioned
    # copies or tracking parameters where a clean landing page exists.
    assert main(["links", "--offline"]) == 0, capsys.readouterr().out
