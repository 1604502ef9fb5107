"""The repository's GitHub workflows, issue form and pre-commit hooks: safe for strangers' pull requests.

Two independent checks: zizmor (a workflow security linter, run offline) and `workflow_problems`, our
own reading of the rules from the security issue (pull_request, never pull_request_target; least
privilege; actions pinned by full commit SHA; no `${{ }}` inside `run:` scripts; deploy from main only).
Both are also run on a deliberately unsafe workflow, to show they can fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tools.add import KINDS

WORKFLOWS = REPO / ".github" / "workflows"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$")
# Scopes a job may write, per workflow: only the deployment and the link report need any.
ALLOWED_WRITES = {"deploy.yml": {"pages", "id-token"}, "links.yml": {"issues"}}

UNSAFE = """\
name: unsafe
on:
  pull_request_target:
permissions: write-all
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "Thanks for ${{ github.event.pull_request.title }}"
"""


def _zizmor() -> str:
    found = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(found).exists():
        pytest.fail("zizmor is not installed: pip install -e '.[dev]'")
    return found


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # PyYAML reads the bare key `on` as the boolean true (YAML 1.1)
        data["on"] = data.pop(True)
    return data


def _steps(data: dict):
    for job_id, job in (data.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            yield job_id, step


def workflow_problems(path: Path) -> list[str]:
    """Every rule of the security issue this workflow breaks, in words."""
    text = path.read_text(encoding="utf-8")
    data = _load(path)
    problems = []
    triggers = data.get("on") or {}
    triggers = {triggers: None} if isinstance(triggers, str) else triggers
    if "pull_request_target" in triggers:
        problems.append("triggered by pull_request_target (runs strangers' code with secrets): use pull_request")
    if "permissions" not in data:
        problems.append("no top-level permissions: the default token may write")
    elif data["permissions"] not in ({}, {"contents": "read"}):
        problems.append(f"top-level permissions {data['permissions']!r}: grant at most contents: read")
    for job_id, job in (data.get("jobs") or {}).items():
        perms = job.get("permissions", {})
        if isinstance(perms, str):
            problems.append(f"job {job_id}: permissions {perms!r}: list scopes")
            continue
        writes = {scope for scope, level in perms.items() if level == "write"}
        extra = writes - ALLOWED_WRITES.get(path.name, set())
        if extra or (writes and "pull_request" in triggers):
            problems.append(f"job {job_id}: writes {sorted(writes)}; not allowed here")
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*(?:-\s+)?uses:", line) and not PINNED.match(line):
            problems.append(f"line {number}: action not pinned by full commit SHA with a '# vX.Y.Z' comment")
    for job_id, step in _steps(data):
        if "${{" in str(step.get("run", "")):
            problems.append(f"job {job_id}: `${{{{ }}}}` expanded inside a run: script (use env: instead)")
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@") and (step.get("with") or {}).get("persist-credentials") is not False:
            problems.append(f"job {job_id}: checkout keeps the token in .git/config (set persist-credentials: false)")
        if "ref" in (step.get("with") or {}):
            problems.append(f"job {job_id}: checks out a ref chosen by the event (the contributor's head)")
    return problems


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml", "links.yml"])
def test_workflow_follows_the_rules(name: str) -> None:
    assert workflow_problems(WORKFLOWS / name) == []


def test_rules_catch_an_unsafe_workflow(tmp_path: Path) -> None:
    path = tmp_path / "unsafe.yml"
    path.write_text(UNSAFE, encoding="utf-8")
    found = "\n".join(workflow_problems(path))
    for fragment in (
        "pull_request_target",
        "top-level permissions 'write-all'",
        "not pinned by full commit SHA",
        "inside a run: script",
        "persist-credentials",
        "checks out a ref",
    ):
        assert fragment in found


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_passes(persona: str) -> None:
    result = subprocess.run(
        [_zizmor(), "--offline", "--no-progress", "--persona", persona, str(WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_fails_an_unsafe_workflow(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "unsafe.yml").write_text(UNSAFE, encoding="utf-8")
    result = subprocess.run(
        [_zizmor(), "--offline", "--no-progress", "--format", "plain", str(tmp_path / ".github" / "workflows")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    for audit in ("dangerous-triggers", "template-injection", "unpinned-uses", "artipacked"):
        assert audit in result.stdout


def test_what_each_workflow_runs() -> None:
    ci, deploy, links = (_load(WORKFLOWS / n) for n in ("ci.yml", "deploy.yml", "links.yml"))
    assert set(ci["on"]) == {"pull_request", "push"} and ci["on"]["push"] == {"branches": ["main"]}
    ci_runs = " ".join(str(s.get("run", "")) for _, s in _steps(ci))
    for command in (
        "python -m tools validate --github",
        "python -m tools links --offline --github",
        "yamllint",
        "ruff check",
        "python -m pytest",
        "python -m tools build",
    ):
        assert command in ci_runs
    # Deploy: from main only, and only the deploy job can publish.
    assert deploy["on"]["push"] == {"branches": ["main"]} and set(deploy["on"]) <= {"push", "workflow_dispatch"}
    assert all(job["if"] == "github.ref == 'refs/heads/main'" for job in deploy["jobs"].values())
    assert deploy["jobs"]["deploy"]["needs"] == "build"
    assert deploy["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    # Links: weekly, online (no --offline), and a report issue.
    assert "schedule" in links["on"] and len(links["on"]["schedule"][0]["cron"].split()) == 5
    link_runs = " ".join(str(s.get("run", "")) for _, s in _steps(links))
    assert "python -m tools links --github --report links-report.md" in link_runs and "--offline" not in link_runs
    assert "gh issue create" in link_runs


def test_issue_form_is_well_formed() -> None:
    form = yaml.safe_load((REPO / ".github" / "ISSUE_TEMPLATE" / "suggest-paper.yml").read_text(encoding="utf-8"))
    assert {"name", "description", "body"} <= set(form)
    ids = [item["id"] for item in form["body"] if item["type"] != "markdown"]
    assert len(ids) == len(set(ids))
    assert all(item["type"] in {"markdown", "input", "textarea", "dropdown", "checkboxes"} for item in form["body"])
    kind = next(item for item in form["body"] if item.get("id") == "kind")
    assert tuple(kind["attributes"]["options"]) == KINDS  # the same vocabulary as the catalogue
    assert (REPO / ".github" / "pull_request_template.md").read_text(encoding="utf-8").count("- [ ]") >= 4


def test_pre_commit_config() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"validate-catalogue", "links-offline", "yamllint", "ruff", "ruff-format"} <= set(hooks)
    assert hooks["validate-catalogue"]["entry"] == "python -m tools validate"
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if Path(pre_commit).exists():
        result = subprocess.run(
            [pre_commit, "validate-config", ".pre-commit-config.yaml"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint_passes_on_the_repository_config_files() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", ".github", ".pre-commit-config.yaml", ".yamllint"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout


def test_yamllint_accepts_what_tools_add_writes(catalog_root: Path) -> None:
    from tools.cli import main

    assert main(["--root", str(catalog_root), "add", "--bibtex", str(REPO / "tests/fixtures/bibtex/dblp.bib")]) == 0
    files = sorted(str(p) for p in (catalog_root / "catalog" / "papers").glob("*.yaml"))
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "-c", str(REPO / ".yamllint"), *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout  # warnings (long title lines) are allowed, errors are not
