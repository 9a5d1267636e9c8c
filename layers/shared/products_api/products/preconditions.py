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
    # the versions its weak tags (W/"n") name: they never match (strong comparison), but the refusal says why
    weak_versions: frozenset[int] = frozenset()

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

    def failure(self, current_version: int, current_etag: str) -> PreconditionFailed:
        """The 412 for a product at `current_version`: a weak tag naming that very version is told it is weak."""
        if current_version in self.weak_versions:
            return PreconditionFailed(
                f'If-Match compares strongly (RFC 9110): a weak tag such as W/"{current_version}" never matches; '
                f'send the ETag as the API gave it ("{current_version}")',
                current_etag,
                reason="weak_if_match",
                params={"version": current_version},
            )
        return PreconditionFailed(
            stale_version_message(current_version),
            current_etag,
            reason="stale_version",
            params={"version": current_version},
        )


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
    weak_versions: set[int] = set()
    parts = header.split(",")
    if len(parts) > MAX_ENTITY_TAGS:
        raise PreconditionFailed(
            f"If-Match may name at most {MAX_ENTITY_TAGS} entity tags",
            reason="if_match_too_many",
            params={"max": MAX_ENTITY_TAGS},
        )
    for part in parts:
        match = _ENTITY_TAG.fullmatch(part)
        if match is None:
            raise PreconditionFailed(
                'If-Match must be "*" or entity tags from an ETag header, such as "4" in quotes',
                reason="if_match_malformed",
            )
        weak, tag = match.groups()
        if tag.isascii() and tag.isdigit() and len(tag) <= 18:
            (weak_versions if weak else versions).add(int(tag))
    return VersionCondition(any_version=False, versions=frozenset(versions), weak_versions=frozenset(weak_versions))
