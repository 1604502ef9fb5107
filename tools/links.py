"""`python -m tools links`: check every URL in the catalogue.

Offline (`--offline`, what the pull-request workflow runs) checks only what can be seen in the text:
tracking and session parameters (utm_*, casa_token, fbclid, ...), and direct PDF links where the site
has a landing page (arXiv, OpenReview, CVF, NeurIPS, PMLR, ACL Anthology, ACM, IEEE, Springer). Each
finding names the file, line and field, and the URL to write instead.

Online (the weekly workflow) fetches every distinct URL: concurrently, at a polite rate per host, with
retries and back-off on transient errors, and with a cache of recent successes so a rerun does not
hammer the same sites. It reports dead links (404, 410, server errors after retries, unreachable
hosts) and redirects (with the address to use instead). Sites that refuse robots (401/403/429/999)
are listed as "could not check", not as dead.

`clean_url` and `canonical_url` are also what `tools add` uses to tidy the URL of a new entry.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tools.catalog import Catalog, Problem

# --- URL hygiene (offline) ---------------------------------------------------------------------------

# Query parameters that only track the visitor or carry a login session: never part of a paper's address.
TRACKING_PARAMS = frozenset(
    {
        "casa_token",  # ACM / Google Scholar "cited-by" access token
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "igshid",
        "ref_src",
        "jsessionid",
        "phpsessid",
        "sessionid",
    }
)
TRACKING_PREFIXES = ("utm_",)
_PATH_SESSION = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)

# Direct-PDF addresses whose landing page can be derived from the address itself.
# (pattern on "host/path?query" without scheme, replacement)
_LANDING_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"^(?:export\.)?arxiv\.org/(?:pdf|abs)/([a-z-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?/?$"
        ),
        r"https://arxiv.org/abs/\1",
    ),
    (re.compile(r"^openreview\.net/pdf\?id=([\w-]+)$"), r"https://openreview.net/forum?id=\1"),
    (
        re.compile(r"^openaccess\.thecvf\.com/(.+)/papers/([^/]+)\.pdf$"),
        r"https://openaccess.thecvf.com/\1/html/\2.html",
    ),
    (
        re.compile(r"^(?:proceedings|papers)\.(?:neurips|nips)\.cc/paper/(\d{4})/file/([0-9a-f]+)-Paper\.pdf$"),
        r"https://proceedings.neurips.cc/paper/\1/hash/\2-Abstract.html",
    ),
    (
        re.compile(
            r"^(?:proceedings|papers)\.(?:neurips|nips)\.cc/paper_files/paper/(\d{4})/file/([0-9a-f]+)-Paper-(\w+)\.pdf$"
        ),
        r"https://proceedings.neurips.cc/paper_files/paper/\1/hash/\2-Abstract-\3.html",
    ),
    (re.compile(r"^proceedings\.mlr\.press/(v\d+)/([\w-]+)/\2\.pdf$"), r"https://proceedings.mlr.press/\1/\2.html"),
    (re.compile(r"^aclanthology\.org/([\w.-]+)\.pdf$"), r"https://aclanthology.org/\1/"),
    (re.compile(r"^dl\.acm\.org/doi/(?:pdf|abs|epdf|fullHtml)/(10\.\d{4,9}/[^?#]+)$"), r"https://dl.acm.org/doi/\1"),
    (
        re.compile(r"^ieeexplore\.ieee\.org/stamp/stamp\.jsp\?(?:tp=&)?arnumber=(\d+)(?:&.*)?$"),
        r"https://ieeexplore.ieee.org/document/\1",
    ),
    (re.compile(r"^ieeexplore\.ieee\.org/(?:abstract/)?document/(\d+)/?$"), r"https://ieeexplore.ieee.org/document/\1"),
    (re.compile(r"^link\.springer\.com/content/pdf/(10\.\d{4,9}/[^?#]+?)(?:\.pdf)?$"), r"https://doi.org/\1"),
]


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def clean_url(url: str) -> str:
    """The URL without tracking or session parameters (other parameters keep their order)."""
    parts = urlsplit(url.strip())
    path = _PATH_SESSION.sub("", parts.path)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
    query = urlencode(kept, doseq=True) if len(kept) != len(pairs) else parts.query
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


def landing_url(url: str) -> str | None:
    """The landing page for a direct-PDF (or versioned arXiv) URL on a known site, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    target = parts.netloc.lower().removeprefix("www.") + parts.path + (f"?{parts.query}" if parts.query else "")
    for pattern, replacement in _LANDING_RULES:
        if pattern.match(target):
            return pattern.sub(replacement, target)
    return None


def canonical_url(url: str) -> str:
    """The address a catalogue entry should use: cleaned, and the landing page instead of a PDF."""
    cleaned = clean_url(url)
    return landing_url(cleaned) or cleaned


# --- which URLs the catalogue holds ----------------------------------------------------------------


@dataclass(frozen=True)
class LinkRef:
    """One URL and where it sits in the catalogue."""

    url: str
    path: str
    line: int
    field: str


def collect_urls(cat: Catalog) -> list[LinkRef]:
    """Every URL of every record that loaded (records that failed to load are `validate`'s business)."""
    refs: list[LinkRef] = []

    def add(rel: str, loc: tuple, url: str | None) -> None:
        if url:
            refs.append(LinkRef(url, rel, cat.line(rel, loc), ".".join(str(p) for p in loc)))

    for pid, paper in sorted(cat.papers.items()):
        rel = f"catalog/papers/{pid}.yaml"
        add(rel, ("url",), paper.url)
        for i, code in enumerate(paper.code):
            add(rel, ("code", i), code)
    for folder, records in (("datasets", cat.datasets), ("metrics", cat.metrics)):
        for rid, record in sorted(records.items()):
            rel = f"catalog/{folder}/{rid}.yaml"
            add(rel, ("url",), getattr(record, "url", None))
            if record.reference is not None:
                add(rel, ("reference", "url"), record.reference.url)
    for i, (_, item) in enumerate(cat.lists.items()):
        add("catalog/lists.yaml", ("lists", i, "url"), item.url)
    return refs


@dataclass(frozen=True)
class Finding:
    """A problem with a link; `level` is 'error' (fails the check) or 'warning'."""

    problem: Problem
    level: str


def _finding(ref: LinkRef, message: str, level: str = "error") -> Finding:
    return Finding(Problem(ref.path, ref.line, ref.field, message), level)


def check_offline(refs: list[LinkRef]) -> list[Finding]:
    """Syntax-only checks: what a URL's text alone says is wrong, with the URL to use instead."""
    findings = []
    for ref in refs:
        parts = urlsplit(ref.url)
        if parts.scheme not in ("http", "https") or "." not in (parts.hostname or ""):
            findings.append(_finding(ref, f"{ref.url!r} is not a full http(s) address"))
            continue
        cleaned = clean_url(ref.url)
        if cleaned != ref.url:
            dropped = sorted(
                {k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if _is_tracking(k)}
                | ({"jsessionid"} if _PATH_SESSION.search(parts.path) else set())
            )
            findings.append(_finding(ref, f"remove tracking/session parameters ({', '.join(dropped)}): use {cleaned}"))
            continue
        landing = landing_url(ref.url)
        if landing and landing != ref.url:
            findings.append(_finding(ref, f"link to the landing page, not the PDF or a versioned copy: use {landing}"))
    return findings


# --- online check ---------------------------------------------------------------------------------

# Hosts whose whole purpose is to redirect (DOI resolvers): a redirect from them is not a finding.
RESOLVERS = frozenset({"doi.org", "dx.doi.org"})
BLOCKING_STATUSES = frozenset({401, 403, 429, 999})  # sites refusing automated requests
DEAD_STATUSES = frozenset({404, 410})
USER_AGENT = "mi-catalogue-link-check/1.0 (+https://github.com; weekly link check of a paper catalogue)"


@dataclass
class LinkResult:
    """Outcome of fetching one URL. kind: ok, redirect, dead, blocked."""

    url: str
    kind: str
    status: int | None = None
    final_url: str | None = None
    detail: str = ""


class LinkChecker:
    """Fetches URLs concurrently, politely (a minimum interval per host), with retries and a cache."""

    def __init__(
        self,
        *,
        workers: int = 8,
        per_host_interval: float = 1.0,
        retries: int = 2,
        backoff: float = 1.0,
        timeout: float = 20.0,
        cache_path: Path | None = None,
        cache_days: float = 7.0,
    ):
        self.workers = workers
        self.per_host_interval = per_host_interval
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.cache_path = cache_path
        self.cache_max_age = dt.timedelta(days=cache_days)
        self.requests_made = 0  # for reports and tests: how many URLs were actually fetched
        self._cache: dict[str, dict] = self._load_cache()
        self._local = threading.local()
        self._hosts: dict[str, float] = {}
        self._hosts_lock = threading.Lock()
        self._count_lock = threading.Lock()

    # The cache remembers successes only: a dead link is checked again on every run.
    def _load_cache(self) -> dict[str, dict]:
        if self.cache_path is None or not self.cache_path.is_file():
            return {}
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a corrupt cache is only a slower run
        return data if isinstance(data, dict) else {}

    def _cached(self, url: str) -> LinkResult | None:
        entry = self._cache.get(url)
        if not isinstance(entry, dict):
            return None
        try:
            checked = dt.datetime.fromisoformat(entry["checked"])
            if dt.datetime.now(dt.timezone.utc) - checked > self.cache_max_age:
                return None
            return LinkResult(url, entry["kind"], entry.get("status"), entry.get("final_url"), "cached")
        except (KeyError, TypeError, ValueError):
            return None

    def save_cache(self) -> None:
        if self.cache_path is None:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._cache, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.cache_path)

    def _session(self):
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        session = getattr(self._local, "session", None)
        if session is None:
            retry = Retry(
                total=self.retries,
                connect=self.retries,
                read=self.retries,
                status=self.retries,
                backoff_factor=self.backoff,
                status_forcelist=(429, 500, 502, 503, 504),
                allowed_methods=frozenset({"GET", "HEAD"}),
                respect_retry_after_header=True,
                raise_on_status=False,
            )
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def _wait_turn(self, host: str) -> None:
        """Reserve the next free slot for this host and sleep until it comes (polite rate per host)."""
        with self._hosts_lock:
            now = time.monotonic()
            slot = max(now, self._hosts.get(host, 0.0))
            self._hosts[host] = slot + self.per_host_interval
        if slot > now:
            time.sleep(slot - now)

    def check(self, url: str) -> LinkResult:
        cached = self._cached(url)
        if cached is not None:
            return cached
        import requests

        host = (urlsplit(url).hostname or "").lower()
        self._wait_turn(host)
        with self._count_lock:
            self.requests_made += 1
        try:
            # GET, not HEAD: many publisher sites answer HEAD wrongly. stream=True reads headers only.
            with self._session().get(url, allow_redirects=True, timeout=self.timeout, stream=True) as resp:
                status, final = resp.status_code, resp.url
        except requests.exceptions.TooManyRedirects:
            return LinkResult(url, "dead", detail="redirect loop")
        except requests.exceptions.Timeout:
            return LinkResult(url, "dead", detail=f"no answer within {self.timeout:.0f} s")
        except requests.exceptions.RetryError as exc:
            return LinkResult(
                url, "dead", detail=f"still failing after {self.retries} retries ({exc.__class__.__name__})"
            )
        except requests.exceptions.RequestException as exc:
            return LinkResult(url, "dead", detail=f"cannot connect ({exc.__class__.__name__})")
        result = self._classify(url, status, final)
        if result.kind in ("ok", "redirect"):
            self._cache[url] = {
                "kind": result.kind,
                "status": status,
                "final_url": result.final_url,
                "checked": dt.datetime.now(dt.timezone.utc).isoformat(),
            }
        return result

    @staticmethod
    def _classify(url: str, status: int, final: str) -> LinkResult:
        if status in BLOCKING_STATUSES:
            return LinkResult(url, "blocked", status, detail=f"HTTP {status}: the site refuses automated requests")
        if status in DEAD_STATUSES or status >= 400:
            return LinkResult(url, "dead", status, detail=f"HTTP {status}")
        host = (urlsplit(url).hostname or "").lower()
        if final and final.rstrip("/") != url.rstrip("/") and host not in RESOLVERS:
            return LinkResult(url, "redirect", status, canonical_url(final))
        return LinkResult(url, "ok", status)

    def check_all(self, urls: list[str]) -> dict[str, LinkResult]:
        """Check each distinct URL once. Hosts are interleaved (round-robin) so that workers waiting for a
        busy host's next slot (github.com, arxiv.org) do not hold up every other host."""
        by_host: dict[str, list[str]] = {}
        for url in dict.fromkeys(urls):
            by_host.setdefault((urlsplit(url).hostname or "").lower(), []).append(url)
        order = [url for group in itertools.zip_longest(*by_host.values()) for url in group if url is not None]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return dict(zip(order, pool.map(self.check, order)))


def check_online(refs: list[LinkRef], checker: LinkChecker) -> list[Finding]:
    """Fetch every URL and turn dead links, redirects and unfetchable pages into findings."""
    results = checker.check_all([r.url for r in refs])
    checker.save_cache()
    findings = []
    for ref in refs:
        res = results[ref.url]
        if res.kind == "dead":
            findings.append(_finding(ref, f"dead link ({res.detail}): {ref.url}; find the paper's current address"))
        elif res.kind == "redirect":
            findings.append(_finding(ref, f"{ref.url} redirects; use {res.final_url}", "warning"))
        elif res.kind == "blocked":
            findings.append(_finding(ref, f"could not check {ref.url} ({res.detail}); check it by hand", "warning"))
    return findings


def markdown_report(findings: list[Finding], checked: int) -> str:
    """The weekly report's body (an issue): one table row per finding, errors first."""
    errors = sum(f.level == "error" for f in findings)
    lines = [
        f"Weekly link check: {checked} links checked, {errors} dead, {len(findings) - errors} to review.",
        "",
        "| level | file | line | field | finding |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for f in sorted(findings, key=lambda f: (f.level != "error", f.problem.path, f.problem.line)):
        message = f.problem.message.replace("|", "\\|")
        lines.append(f"| {f.level} | `{f.problem.path}` | {f.problem.line} | {f.problem.field} | {message} |")
    lines += [
        "",
        "Fix the entries (or open a pull request) and close this issue. Generated by `python -m tools links`.",
    ]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    """The `links` verb. Exit 1 when a link is dead or malformed; redirects and unfetchable pages only warn."""
    import sys

    from tools.catalog import load_catalog
    from tools.cli import github_annotation

    root = Path(args.root)
    cat = load_catalog(root)
    refs = collect_urls(cat)
    if args.offline:
        findings = check_offline(refs)
        checked = len(refs)
    else:
        checker = LinkChecker(
            workers=args.workers,
            per_host_interval=args.per_host_interval,
            cache_path=None if args.no_cache else root / ".cache" / "links.json",
        )
        findings = check_offline(refs) + check_online(refs, checker)
        checked = len({r.url for r in refs})
    findings.sort(key=lambda f: (f.problem.path, f.problem.line, f.problem.field))
    for f in findings:
        print(github_annotation(f.problem, f.level) if args.github else f"{f.level}: {f.problem}")
    if args.report and findings:
        Path(args.report).write_text(markdown_report(findings, checked), encoding="utf-8")
    errors = sum(f.level == "error" for f in findings)
    mode = "offline (syntax only)" if args.offline else "online"
    print(f"links {mode}: {checked} checked, {errors} error(s), {len(findings) - errors} warning(s)", file=sys.stderr)
    if cat.problems:
        print(
            f"note: {len(cat.problems)} record(s) have problems and were skipped; run python -m tools validate",
            file=sys.stderr,
        )
    return 1 if errors else 0
