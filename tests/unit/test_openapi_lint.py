"""docs/openapi.json passes Redocly's lint (its recommended rules) with no error and no warning.

Redocly CLI is an npm devDependency (package.json), installed by `make` with DynamoDB Local; it runs from
node_modules, with its telemetry and update check off, so it needs no network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from openapi_support import DOCUMENT
from support import ROOT, run_in_project

REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"


def redocly_lint(path: Path) -> dict[str, Any]:
    """Redocly's JSON report on `path`: totals and problems."""
    if not REDOCLY.exists():
        pytest.fail(f"{REDOCLY.relative_to(ROOT)} is missing: run `make install` (npm ci)", pytrace=False)
    environment = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    completed = run_in_project([str(REDOCLY), "lint", "--format=json", str(path)], env=environment, timeout=120)
    assert completed.stdout.strip(), f"redocly printed no report (exit {completed.returncode}):\n{completed.stderr}"
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def problems(report: dict[str, Any]) -> list[str]:
    return [
        f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}" for p in report["problems"]
    ]


def test_the_document_has_no_lint_error_or_warning() -> None:
    report = redocly_lint(DOCUMENT)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, "\n".join(problems(report))


def test_the_lint_reports_a_warning(tmp_path: Path) -> None:
    """The check above can fail: a tag without a description is a warning of the recommended rules."""
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    for tag in document["tags"]:
        del tag["description"]
    broken = tmp_path / "openapi.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    report = redocly_lint(broken)
    assert report["totals"]["warnings"] >= 1
    assert any("tag-description" in line for line in problems(report))
