"""The examples of the document: the API reference's product (docs/api.md), two records of its history, a patch,
the request id of every error example, and the sentences the code writes into errors.
"""

from __future__ import annotations

from datetime import UTC, datetime

from products_api import errors as api_errors
from products_api.api import requests
from products_api.errors import (
    FieldProblem,
    InvalidCursor,
    InvalidIdempotencyKey,
    InvalidJson,
    InvalidProductId,
    PayloadTooLarge,
    PreconditionFailed,
    Unauthorized,
    UnsupportedMediaType,
)
from products_api.history.store import FieldChange, HistoryEntry, HistoryPage
from products_api.limits.limiter import RateLimitState
from products_api.products.models import Product
from products_api.products.preconditions import stale_version_message

# The product of the API reference's example (docs/api.md): the 200 example of the document.
EXAMPLE_PRODUCT = Product(
    id="6650a1b2c3d4e5f6a7b8c9d0",
    company_id="example-company",
    name="Li-Ion 48V Battery Pack (revised)",
    model="LI-48V-20AH",
    description=None,
    default_field_values={"chemistry": "NMC", "capacityWh": 960},
    image_urls=["https://cdn.example.com/new-hero.jpg"],
    status="active",
    source_locale="en",
    version=4,
    created_at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
    updated_at=datetime(2026, 5, 9, 15, 30, tzinfo=UTC),
)


def _example_entry(version: int, changed_at: datetime, changes: tuple[FieldChange, ...]) -> HistoryEntry:
    """A record of the example product's history, written by the example credential."""
    return HistoryEntry(
        company_id=EXAMPLE_PRODUCT.company_id,
        product_id=EXAMPLE_PRODUCT.id,
        version=version,
        changed_at=changed_at,
        changed_by="cred_3f9a1c2b7d4e5f60",
        changes=changes,
    )


# Two records of that product's history, with a cursor to the older ones: the history route's 200 example.
EXAMPLE_HISTORY = HistoryPage(
    entries=(
        _example_entry(
            4,
            datetime(2026, 5, 9, 15, 30, tzinfo=UTC),
            (
                FieldChange(field="name", before="Li-Ion 48V Battery Pack", after="Li-Ion 48V Battery Pack (revised)"),
                FieldChange(field="description", before="Original description", after=None),
            ),
        ),
        _example_entry(
            3,
            datetime(2026, 5, 8, 10, 0, tzinfo=UTC),
            (
                FieldChange(
                    field="defaultFieldValues",
                    before={"chemistry": "NMC", "capacityWh": 900},
                    after={"chemistry": "NMC", "capacityWh": 960},
                ),
            ),
        ),
    ),
    next_before_version=3,
)
EXAMPLE_PATCH = {
    "name": "Li-Ion 48V Battery Pack (revised)",
    "description": None,
    "imageUrls": ["https://cdn.example.com/new-hero.jpg"],
}
EXAMPLE_REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e812345678"
EXAMPLE_PROBLEMS = [FieldProblem(field="imageUrls", message="at most 20 items")]
# The rate of the examples of the RateLimit fields: a company allowed 100 writes a minute, none left for 27 s.
EXAMPLE_RATE = RateLimitState(limit=100, remaining=0, reset_seconds=27)


def example_errors() -> list[Exception]:
    """Errors as the code raises them, with the sentences a client would read: the examples' `error` values (the
    error table's fixed sentences need none). `error_responses.sample_errors` fills in any code without one here.
    """
    return [
        InvalidProductId("product id must be a 24-character hexadecimal ObjectId"),
        InvalidJson('member name "name" appears more than once'),
        InvalidIdempotencyKey("Idempotency-Key must be a UUID version 4"),
        InvalidCursor("cursor belongs to another product's history"),
        Unauthorized("unknown credential", token_presented=True),
        PreconditionFailed(stale_version_message(EXAMPLE_PRODUCT.version), EXAMPLE_PRODUCT.etag),
        PayloadTooLarge(
            f"the body is {requests.MAX_BODY_BYTES + 1808} bytes; at most {requests.MAX_BODY_BYTES} are accepted"
        ),
        UnsupportedMediaType("Content-Type 'text/plain' is not supported: send application/json"),
        api_errors.InvalidImage("the file is not a JPEG, PNG or WebP image (judged by its content, not its name)"),
        api_errors.TooManyImages(
            "the product already has 20 images, the most allowed (20); remove one with PATCH imageUrls first"
        ),
        api_errors.UploadNotFound("no upload '0f1e2d3c4b5a69788796a5b4c3d2e1f0'"),
    ]
