"""Generate the site's pages, then build or serve it with MkDocs.

`generate(root)` writes site/generated/ (only files whose content changed, and removes stale ones, so
`mkdocs serve` reloads only when something really changed). `build(root)` = validate + generate +
`mkdocs build --strict` into build/site/. `serve(root)` = the same with `mkdocs serve`, regenerating
whenever a file under catalog/ or mi_ref/ changes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tools.catalog import Catalog, load_catalog
from tools.site import pages
from tools.site.refcode import ModuleError

DOCS_DIR = "site"


def generated_dir(root: Path) -> Path:
    return root / DOCS_DIR / pages.GENERATED


def write_tree(folder: Path, files: dict[str, str | bytes]) -> tuple[int, int]:
    """Make folder hold exactly these files; returns (written, removed)."""
    written = removed = 0
    made: set[Path] = set()
    for rel, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = folder / rel
        try:
            if path.read_bytes() == data:
                continue
        except OSError:
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
        path.write_bytes(data)
        written += 1
    wanted = {folder / rel for rel in files}
    for path in sorted(folder.rglob("*"), reverse=True):  # children before their folders
        if path.is_file() and path not in wanted:
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return written, removed


def load_checked(root: Path) -> Catalog | None:
    """The catalogue, or None after printing its problems (as `validate` does)."""
    cat = load_catalog(root)
    for problem in cat.problems:
        print(problem, file=sys.stderr)
    if cat.problems:
        print(f"{len(cat.problems)} problem(s) found; fix them before building the site", file=sys.stderr)
        return None
    return cat


def generate(root: Path, cat: Catalog | None = None) -> int:
    """Validate and write the generated pages; 0 on success, 1 if the catalogue or mi_ref has a problem."""
    cat = cat if cat is not None else load_checked(root)
    if cat is None:
        return 1
    try:
        files = pages.render_site(cat, root)
    except ModuleError as exc:
        print(f"{exc}", file=sys.stderr)
        return 1
    written, removed = write_tree(generated_dir(root), files)
    print(f"{cat.summary()}; generated {len(files)} files ({written} changed, {removed} removed)")
    return 0


def mkdocs(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mkdocs", *args, "--config-file", str(root / "mkdocs.yml")]


# Material prints a notice about MkDocs 2 on every run; the project already keeps to what survives it.
MKDOCS_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def build(root: Path) -> int:
    if generate(root):
        return 1
    return subprocess.run(mkdocs(root, "build", "--strict"), cwd=root, env=MKDOCS_ENV, check=False).returncode


def _signature(root: Path) -> tuple:
    """A cheap fingerprint of the inputs of generation: names, sizes and times of the files."""
    entries = []
    for folder in ("catalog", "mi_ref"):
        for dirpath, _, names in os.walk(root / folder):
            for name in names:
                st = os.stat(os.path.join(dirpath, name))
                entries.append((dirpath, name, st.st_size, st.st_mtime_ns))
    entries.append(("mkdocs.yml", (root / "mkdocs.yml").stat().st_mtime_ns))
    return tuple(sorted(entries))


def serve(root: Path, address: str = "127.0.0.1:8000", poll_s: float = 1.0) -> int:
    if generate(root):
        return 1
    server = subprocess.Popen(mkdocs(root, "serve", "--dev-addr", address), cwd=root, env=MKDOCS_ENV)
    # A SIGTERM must stop the MkDocs server too, not leave it running without us.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    last = _signature(root)
    try:
        while server.poll() is None:
            time.sleep(poll_s)
            now = _signature(root)
            if now != last:
                last = now
                generate(root)  # problems are printed; the last good pages stay up
        return server.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def clean(root: Path) -> None:
    shutil.rmtree(generated_dir(root), ignore_errors=True)


def copy_sources(src: Path, dst: Path, with_catalog: bool = True) -> Path:
    """Copy what a build reads (mkdocs.yml, CONTRIBUTING.md, hand-written pages, mi_ref, optionally catalog/)
    to dst, leaving generated files behind: used to build synthetic catalogues in a scratch folder."""
    shutil.copy2(src / "mkdocs.yml", dst / "mkdocs.yml")
    if (src / "CONTRIBUTING.md").is_file():  # the site's Contributing page is generated from it
        shutil.copy2(src / "CONTRIBUTING.md", dst / "CONTRIBUTING.md")
    shutil.copytree(
        src / DOCS_DIR,
        dst / DOCS_DIR,
        ignore=shutil.ignore_patterns(pages.GENERATED, "__pycache__"),
        dirs_exist_ok=True,
    )
    shutil.copytree(src / "mi_ref", dst / "mi_ref", ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    if with_catalog:
        shutil.copytree(src / "catalog", dst / "catalog", dirs_exist_ok=True)
    return dst
