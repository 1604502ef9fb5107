"""The site generator: catalogue -> Markdown pages, figures and data files under site/generated/.

A plain Python step run before `mkdocs build` (no MkDocs plugin). Each generated page is a small YAML
front matter plus one raw HTML block rendered by a Jinja template with autoescaping on, so nothing
from the data is ever read as Markdown, HTML or template syntax.

- `pages.py`: every page of the catalogue (papers, taxonomy, datasets, metrics, what's new, downloads).
- `figures.py`: the home page's figures, drawn as static SVG from the data.
- `explore.py`: the compact JSON behind the Explore page.
- `refcode.py`: pages for the mi_ref reference implementations, read statically (never imported).
- `build.py`: writing the pages, `mkdocs build` and `mkdocs serve`.
"""
