"""Item models name their attributes in snake_case and store them camelCase (core/dynamodb.StoredItem): the table's
attribute names are the contract with every item already stored, so a rename in Python must never reach them.
"""

from __future__ import annotations

from typing import Any

from products_api.auth.credentials import Credential
from products_api.core.dynamodb import StoredItem
from products_api.history.store import HistoryItem
from products_api.images.requests import UploadResponse
from products_api.images.storage import UploadRecord
from products_api.products.items import ProductItem

# An upload record as the image uploads table holds it once its file was appended (TTL and all).
STORED_UPLOAD: dict[str, Any] = {
    "uploadId": "0123456789abcdef0123456789abcdef",
    "companyId": "ACME",
    "productId": "6650a1b2c3d4e5f6a7b8c9d0",
    "credentialId": "cred_9c2b37d98dda40b3",
    "bucket": "products-images",
    "key": "uploads/0123456789abcdef0123456789abcdef",
    "baseUrl": "https://cdn.example.com",
    "status": "appended",
    "createdAt": "2026-05-01T09:00:00.000Z",
    "uploadExpiresAt": "2026-05-01T09:05:00.000Z",
    "expiresAt": 1778230800,
    "updatedAt": "2026-05-01T09:01:00.000Z",
    "imageUrl": "https://cdn.example.com/images/6650a1b2c3d4e5f6a7b8c9d0/0123456789abcdef0123456789abcdef.png",
    "version": 4,
}


def test_an_upload_record_reads_and_writes_the_stored_attribute_names() -> None:
    record = UploadRecord.model_validate({**STORED_UPLOAD, "somethingElse": "ignored"})
    assert (record.upload_id, record.base_url, record.upload_expires_at) == (
        STORED_UPLOAD["uploadId"],
        STORED_UPLOAD["baseUrl"],
        STORED_UPLOAD["uploadExpiresAt"],
    )
    # what create() puts: the same names, in the same order, absent values left out
    assert list(record.model_dump(exclude_none=True).items()) == list(STORED_UPLOAD.items())


def test_the_upload_status_answer_shows_the_records_own_members_under_their_api_names() -> None:
    record = UploadRecord.model_validate(STORED_UPLOAD)
    assert UploadResponse.from_record(record).model_dump(exclude_none=True) == {
        "uploadId": STORED_UPLOAD["uploadId"],
        "productId": STORED_UPLOAD["productId"],
        "status": "appended",
        "createdAt": STORED_UPLOAD["createdAt"],
        "updatedAt": STORED_UPLOAD["updatedAt"],
        "imageUrl": STORED_UPLOAD["imageUrl"],
        "version": 4,
    }


def test_every_item_model_has_snake_case_attributes() -> None:
    item_models = StoredItem.__subclasses__()
    assert set(item_models) >= {ProductItem, HistoryItem, Credential, UploadRecord}
    for model in item_models:
        assert all(name == name.lower() for name in model.model_fields), model.__name__
