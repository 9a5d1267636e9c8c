"""If-Match: which versions a client's entity tags accept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from products_api.errors import PreconditionFailed

_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')
MAX_ENTITY_TAGS = 16


@dataclass(frozen=True)
class VersionCondition:
    """`any_version` for no If-Match or `*`; otherwise the versions its strong tags name (maybe none)."""

    any_version: bool
    versions: frozenset[int] = frozenset()

    def matches(self, version: int) -> bool:
        return self.any_version or version in self.versions

    def expression(self, attribute: str, values: dict[str, Any]) -> str | None:
        """A DynamoDB condition on `attribute`, adding its values to `values`; None when any version goes."""
        if self.any_version:
            return None
        if not self.versions:
            # tags that can never match (weak or not a version): fail, and let ALL_OLD tell 404 from 412
            values[":noVersion"] = -1
            return f"{attribute} = :noVersion"
        placeholders = []
        for position, version in enumerate(sorted(self.versions)):
            values[f":ifMatch{position}"] = version
            placeholders.append(f":ifMatch{position}")
        return f"{attribute} IN ({', '.join(placeholders)})"


ANY_VERSION = VersionCondition(any_version=True)


def stale_version_message(current_version: int) -> str:
    return (
        "If-Match does not name the current version: "
        f'the product is at version {current_version} (ETag "{current_version}")'
    )


def parse_if_match(header: str | None) -> VersionCondition:
    """RFC 9110 If-Match with strong comparison: W/ tags never match; a malformed header is refused."""
    if header is None:
        return ANY_VERSION
    if header.strip() == "*":
        return ANY_VERSION
    versions: set[int] = set()
    parts = header.split(",")
    if len(parts) > MAX_ENTITY_TAGS:
        raise PreconditionFailed(f"If-Match may name at most {MAX_ENTITY_TAGS} entity tags")
    for part in parts:
        match = _ENTITY_TAG.fullmatch(part)
        if match is None:
            raise PreconditionFailed('If-Match must be "*" or entity tags from an ETag header, such as "4" in quotes')
        weak, tag = match.groups()
        if not weak and tag.isascii() and tag.isdigit() and len(tag) <= 18:
            versions.add(int(tag))
    return VersionCondition(any_version=False, versions=frozenset(versions))
