"""Catalogue tooling: one CLI, `python -m tools <verb>`."""
