"""The error responses of an operation, from the error catalogue (`products_api.api.catalogue`) and the code itself:
one sample of every exception the operation raises goes through `error_outcome`, and what comes out (statuses,
codes, headers, bodies) is what the document says, each code with the catalogue's meaning.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from products_api import errors as api_errors
from products_api.api import catalogue
from products_api.api import responses as api_responses
from products_api.errors import (
    DomainError,
    FieldProblem,
    InsufficientScope,
    InvalidCursor,
    InvalidProductId,
    PreconditionFailed,
    ProductNotFound,
    StoreUnavailable,
    Unauthorized,
    ValidationFailed,
)
from products_api.images import service as image_service
from products_api.limits.limiter import RateLimitState
from products_api.products import service

from products_api_local.openapi.components import OpenApiError
from products_api_local.openapi.examples import EXAMPLE_PROBLEMS, EXAMPLE_RATE, EXAMPLE_REQUEST_ID, example_errors
from products_api_local.openapi.headers import REASONS, header, replay_header, replayed_header

# What each `code` tells a client: the error catalogue's meaning of it.
CATALOGUE_MEANINGS = {entry.code: entry.meaning for entry in catalogue.every_error()}

# The errors a route answers, in groups an operation's list is made of (the order of a list does not matter: the
# document lists the codes in the catalogue's order).
# Every route: a credential refused or without the scope, the database out of reach.
EVERY_ROUTE_ERRORS: tuple[type[DomainError], ...] = (Unauthorized, InsufficientScope, StoreUnavailable)
# A route about one product: a malformed id, or no such product of the caller's company.
ONE_PRODUCT_ERRORS: tuple[type[DomainError], ...] = (InvalidProductId, ProductNotFound)
# A route reading pages: a bad query parameter, a cursor it did not hand out.
PAGED_QUERY_ERRORS: tuple[type[DomainError], ...] = (ValidationFailed, InvalidCursor)


@dataclass(frozen=True)
class Reserved:
    status: int
    code: str
    meaning: str
    # (name, example value) of the headers it will always send
    headers: tuple[tuple[str, str], ...] = ()


# In the contract, not sent by the code yet. Documented so clients handle them from day one; an entry the code
# already sends is an error (the test suite says so), so it cannot stay marked "not sent yet" by mistake.
RESERVED: tuple[Reserved, ...] = ()


@dataclass
class StatusErrors:
    status: int
    codes: list[str] = field(default_factory=list)
    # header -> (how many sample errors sent it, one value it had)
    headers: dict[str, tuple[int, str]] = field(default_factory=dict)
    samples: int = 0


def sample_errors(scope: str, error_types: Sequence[type[DomainError]]) -> list[Exception]:
    """One or more instances of every exception of the error table the operation raises (`error_types`), then an
    unexpected one (the 500).
    """
    special: dict[type[DomainError], list[Exception]] = {
        ValidationFailed: [ValidationFailed(EXAMPLE_PROBLEMS)],
        Unauthorized: [Unauthorized("sample", token_presented=False), Unauthorized("sample", token_presented=True)],
        InsufficientScope: [InsufficientScope(scope)],
        # with the current version when the product exists, without when If-Match itself is malformed
        PreconditionFailed: [PreconditionFailed("sample", current_etag='"4"'), PreconditionFailed("sample")],
        api_errors.RateLimited: [api_errors.RateLimited(EXAMPLE_RATE.reset_seconds, EXAMPLE_RATE.headers())],
        # a company with an unlimited rate gets no RateLimit fields with it
        api_errors.QuotaExceeded: [
            api_errors.QuotaExceeded(2_419_200, RateLimitState(100, 63, 27).headers()),
            api_errors.QuotaExceeded(2_419_200, {}),
        ],
    }
    samples: list[Exception] = []
    for error_type in catalogue.ERRORS:
        if error_type not in error_types:
            continue
        if error_type in special:
            samples.extend(special[error_type])
            continue
        try:
            samples.append(error_type("sample"))
        except Exception as exc:  # any failure means the same: teach `special` this exception
            raise OpenApiError(
                f"cannot build a sample {error_type.__name__} ({exc}): add it to sample_errors' special cases"
            ) from exc
    samples.append(RuntimeError("sample"))
    return samples


def error_table(scope: str, error_types: Sequence[type[DomainError]]) -> list[StatusErrors]:
    """What `error_outcome` answers for every sample error, by status: codes in table order, headers sent."""
    by_status: dict[int, StatusErrors] = {}
    for error in sample_errors(scope, error_types):
        outcome = api_responses.error_outcome(error, EXAMPLE_REQUEST_ID)
        code = json.loads(outcome.body)["code"]
        entry = by_status.setdefault(outcome.status_code, StatusErrors(outcome.status_code))
        entry.samples += 1
        if code not in entry.codes:
            entry.codes.append(code)
        for name, value in outcome.headers.items():
            count, first_value = entry.headers.get(name, (0, value))
            entry.headers[name] = (count + 1, first_value)
    return [by_status[status] for status in sorted(by_status)]


def kept_codes() -> set[str]:
    """The codes of the error outcomes the service keeps for replay."""
    return {catalogue.ERRORS[error_type].code for error_type in (*service.KEPT_ERRORS, *image_service.KEPT_ERRORS)}


def kept_outcomes() -> str:
    """The answers kept for replay, as prose: `200, 404, 409 `duplicate_model` or 412`."""
    kept = kept_codes()
    by_status: dict[int, list[str]] = {}
    for spec in catalogue.ERRORS.values():
        by_status.setdefault(spec.status, [])
        if spec.code not in by_status[spec.status]:
            by_status[spec.status].append(spec.code)
    items = ["200"]
    for status, codes in sorted(by_status.items()):
        kept_here = [code for code in codes if code in kept]
        if kept_here:
            items.append(str(status) if kept_here == codes else f"{status} {', '.join(f'`{c}`' for c in kept_here)}")
    return f"{', '.join(items[:-1])} or {items[-1]}"


def describe_codes(
    status: int, codes: Sequence[str], kept: set[str], reserved: Mapping[str, str], meanings: Mapping[str, str]
) -> str:
    items = []
    for code in codes:
        meaning = reserved.get(code) or meanings.get(code) or CATALOGUE_MEANINGS[code]
        note = " Kept for replay with the same `Idempotency-Key`." if code in kept else ""
        items.append(f"`{code}`: {meaning}{note}")
    if len(items) == 1:
        return f"{REASONS[status]}. `code` is {items[0]}"
    listed = "\n".join(f"- {item}" for item in items)
    return f"{REASONS[status]}. `code` is one of:\n\n{listed}"


def error_responses(
    scope: str,
    error_ref: dict[str, Any],
    error_types: Sequence[type[DomainError]],
    *,
    idempotent: bool = True,
    meanings: Mapping[str, str] | None = None,
    reserved_codes: Sequence[Reserved] = RESERVED,
    validation_example: Sequence[FieldProblem] = EXAMPLE_PROBLEMS,
) -> dict[str, dict[str, Any]]:
    """Every error status the operation answers (plus the reserved ones), by status code as a string.

    `error_types` are the exceptions of the error table the operation raises; `idempotent`
    operations mark the outcomes kept for replay; `meanings` overrides the catalogue's meanings for this operation.
    """
    table = error_table(scope, error_types)
    sent = {code for entry in table for code in entry.codes}
    kept = kept_codes() if idempotent else set()
    replay_name, _ = replay_header()

    reserved = [item for item in reserved_codes if item.code not in sent]
    statuses = {entry.status for entry in table}
    table.extend(StatusErrors(status) for status in sorted({item.status for item in reserved} - statuses))
    table.sort(key=lambda entry: entry.status)

    examples_by_code = sample_bodies(scope, error_types, validation_example)
    responses: dict[str, dict[str, Any]] = {}
    for entry in table:
        reserved_here = [item for item in reserved if item.status == entry.status]
        codes = entry.codes + [item.code for item in reserved_here]
        description = describe_codes(
            entry.status, codes, kept, {item.code: item.meaning for item in reserved_here}, meanings or {}
        )
        headers = {
            name: header(name, entry.status, value, required=count == entry.samples)
            for name, (count, value) in entry.headers.items()
        }
        for item in reserved_here:
            for name, value in item.headers:
                headers.setdefault(name, header(name, entry.status, value, required=True))
        kept_here = [code for code in codes if code in kept]
        if kept_here:
            headers[replay_name] = replayed_header(kept_here if kept_here != codes else ())
        response: dict[str, Any] = {"description": description}
        if headers:
            response["headers"] = headers
        examples = error_examples(codes, examples_by_code, reserved_here)
        response["content"] = {"application/json": {"schema": error_ref, "examples": examples}}
        responses[str(entry.status)] = response
    return responses


def sample_bodies(
    scope: str, error_types: Sequence[type[DomainError]], validation_example: Sequence[FieldProblem]
) -> dict[str, dict[str, Any]]:
    """One body the code sends for each `code` the operation can answer: the first example or sample error of each
    code, with the operation's own `validation_example` for `validation_error`.
    """
    bodies: dict[str, dict[str, Any]] = {}
    samples: list[Exception] = [ValidationFailed(list(validation_example)), InsufficientScope(scope)]
    samples += [error for error in example_errors() if type(error) in error_types]
    samples += sample_errors(scope, error_types)
    for error in samples:
        body = json.loads(api_responses.error_outcome(error, EXAMPLE_REQUEST_ID).body)
        bodies.setdefault(body["code"], body)
    return bodies


def error_examples(
    codes: Sequence[str], bodies: Mapping[str, dict[str, Any]], reserved: Sequence[Reserved]
) -> dict[str, dict[str, Any]]:
    """An example per `code` of one status, named by the code: what the code sends, or for a reserved code the
    body it will send (its meaning as the sentence).
    """
    examples: dict[str, dict[str, Any]] = {}
    for code in codes:
        body = bodies.get(code)
        if body is None:
            item = next((item for item in reserved if item.code == code), None)
            if item is None:
                raise OpenApiError(f"no sample error answers `{code}`: teach sample_errors how to build one")
            sentence = item.meaning.split(". Reserved")[0].replace("`", "")
            body = {"error": sentence[:1].upper() + sentence[1:] + ".", "code": code, "requestId": EXAMPLE_REQUEST_ID}
        examples[code] = {"summary": f"`{code}`", "value": body}
    return examples
