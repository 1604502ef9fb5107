"""The catalogue covers the public lists: the seed repository fully, the peer lists row by row."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tools import coverage
from tools.catalog import load_catalog

SEED_SECTION = {  # seed repository category_path -> seed_section term
    "attack/gradient-inversion": "attack-gradient-inversion",
    "attack/generative-model-based": "attack-generative-model-based",
    "attack/miscellaneous": "attack-miscellaneous",
    "defense/feature-perturbation-obfuscation": "defense-feature-perturbation-obfuscation",
    "defense/gradient-pruning": "defense-gradient-pruning",
    "defense/gradient-perturbation-obfuscation": "defense-gradient-perturbation-obfuscation",
    "defense/differential-privacy": "defense-differential-privacy",
    "defense/cryptographic-encryption": "defense-cryptographic-encryption",
    "defense/model-architecture-enhancement": "defense-model-architecture-enhancement",
    "defense/miscellaneous": "defense-miscellaneous",
}


@pytest.fixture(scope="module")
def cat():
    return load_catalog(REPO)


def test_seed_sections_are_the_taxonomy_facet(cat) -> None:
    assert set(SEED_SECTION.values()) <= set(cat.terms["seed_section"])


def test_every_seed_row_is_exactly_one_paper_in_its_section(cat) -> None:
    rows = coverage.seed_rows(REPO)
    assert len(rows) == 67, "seed-papers.tsv changed: it must keep all 67 rows of the seed repository"
    report = coverage.check(cat, rows, REPO)
    # A seed row may wait in catalog/coverage/backlog.txt only while a fact we need (e.g. the authors)
    # can't be verified; the backlog says why, and the issue stays open until it is empty.
    problems = [f"{k}: no catalogue entry" for k in report.missing]
    problems += [
        f"{k}: in the backlog but now in the catalogue; remove it from backlog.txt" for k in report.stale_backlog
    ]
    problems += [f"{k}: matches several entries {sorted(v)}" for k, v in report.ambiguous.items()]
    problems += [f"{k}: excluded, but every seed row must be in the catalogue" for k in report.excluded]
    for row in rows:
        for pid in report.matched.get(row.key, ()):
            if SEED_SECTION[row.kind] not in cat.papers[pid].seed_section:
                problems.append(f"{row.key}: catalog/papers/{pid}.yaml lacks seed_section {SEED_SECTION[row.kind]}")
    assert not problems, "\n".join(problems)
    distinct = {pid for ids in report.matched.values() for pid in ids}
    assert len(distinct) + len(report.pending) == 66  # one paper is listed twice


def test_seed_sections_only_on_seed_papers(cat) -> None:
    report = coverage.check(cat, coverage.seed_rows(REPO), REPO)
    seed_ids = {pid for ids in report.matched.values() for pid in ids}
    extra = sorted(pid for pid, p in cat.papers.items() if p.seed_section and pid not in seed_ids)
    assert not extra, f"seed_section is set on papers the seed repository does not list: {extra}"


def test_every_peer_row_is_covered_decided_or_in_backlog(cat) -> None:
    report = coverage.check(cat, coverage.peer_rows(REPO), REPO)
    assert not report.missing, (
        "peer-union rows with no catalogue entry, no decision in catalog/coverage/decisions.yaml and not in "
        "catalog/coverage/backlog.txt:\n" + "\n".join(report.missing)
    )
    assert not report.stale_backlog, (
        "these backlog rows are now covered; delete them from catalog/coverage/backlog.txt:\n"
        + "\n".join(report.stale_backlog)
    )
    assert not report.ambiguous, f"rows matching several papers (duplicates?): {report.ambiguous}"


def test_listed_in_names_every_list_that_mentions_the_paper(cat) -> None:
    rows = coverage.peer_rows(REPO)
    report = coverage.check(cat, rows, REPO)
    problems = []
    for row in rows:
        for pid in report.matched.get(row.key, ()):
            lacking = set(row.sources) - set(cat.papers[pid].listed_in)
            if lacking:
                problems.append(f"catalog/papers/{pid}.yaml: listed_in lacks {sorted(lacking)} (row {row.key})")
    assert not problems, "\n".join(problems)


def test_decisions_name_real_papers_and_give_reasons(cat) -> None:
    keys = {r.key for r in coverage.peer_rows(REPO)} | {r.key for r in coverage.seed_rows(REPO)}
    for key, decision in coverage.decisions(REPO).items():
        assert key in keys, f"catalog/coverage/decisions.yaml: {key!r} is not a row key of the coverage tables"
        if "paper" in decision:
            assert decision["paper"] in cat.papers, f"decision for {key!r} names unknown paper {decision['paper']!r}"
        else:
            assert len(str(decision["excluded"]).strip()) >= 10, f"decision for {key!r}: give a real reason"
