"""The command line: print the document, write docs/openapi.json, or check that the committed file is current."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from products_api_local.openapi.components import OpenApiError
from products_api_local.openapi.document import build_document, render
from products_api_local.template.document import project_root

DOCUMENT_FILE = Path("docs") / "openapi.json"
WRITE_COMMAND = ".venv/bin/python -m products_api_local.openapi --write"


def diff_summary(current: str, expected: str, path: Path, limit: int = 60) -> str:
    """How many lines differ, and the first `limit` lines of the unified diff."""
    lines = list(
        difflib.unified_diff(
            current.splitlines(), expected.splitlines(), f"{path} (committed)", f"{path} (generated)", lineterm=""
        )
    )
    changed = sum(1 for line in lines if line[:1] in "+-" and line[:3] not in {"+++", "---"})
    shown = "\n".join(lines[:limit])
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return f"{changed} changed lines\n{shown}{more}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m products_api_local.openapi", description="Generate the OpenAPI document of the products API."
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write the document to {DOCUMENT_FILE}")
    action.add_argument("--check", action="store_true", help=f"exit 1 when {DOCUMENT_FILE} is not what is generated")
    parser.add_argument("--file", type=Path, help=f"the document's file (default: {DOCUMENT_FILE} of the project)")
    args = parser.parse_args(argv)

    try:
        text = render(build_document())
    except OpenApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path: Path = args.file or project_root() / DOCUMENT_FILE
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
        return 0
    if args.check:
        if not path.is_file():
            print(f"{path} does not exist: run {WRITE_COMMAND}", file=sys.stderr)
            return 1
        current = path.read_text(encoding="utf-8")
        if current != text:
            print(f"{path} is out of date: run {WRITE_COMMAND}", file=sys.stderr)
            print(diff_summary(current, text, path), file=sys.stderr)
            return 1
        print(f"{path} is up to date", file=sys.stderr)
        return 0
    sys.stdout.write(text)
    return 0
