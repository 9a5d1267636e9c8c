"""The idempotency table's record reader (`api.idempotency.RecordTable`) against Powertools' own: every record an item
can hold reads the same, field by field, so a replay is answered exactly as Powertools would answer it; and the payload
it hashes, handed over without a copy, hashes as Powertools hashes it.
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from products_api.api.idempotency import RecordTable

RECORD_ID = "products-api#patch-product#" + "a" * 64
COMPLETED: dict[str, Any] = {
    "id": {"S": RECORD_ID},
    "expiration": {"N": "1796193612"},
    "status": {"S": "COMPLETED"},
    "in_progress_expiration": {"N": "1796107212345"},
    "validation": {"S": "b" * 64},
    "data": {"S": '{"statusCode": 200, "body": "{\\"name\\":\\"Grüße\\"}", "headers": {"ETag": "\\"2\\""}}'},
}
IN_PROGRESS = {key: value for key, value in COMPLETED.items() if key != "data"} | {"status": {"S": "INPROGRESS"}}
# written by an older layer or by hand: no in-progress expiry, no validation hash
BARE = {key: COMPLETED[key] for key in ("id", "expiration", "status")}
# what the fast path does not read itself goes to Powertools' reader: a fractional number, another type
FRACTIONAL = COMPLETED | {"expiration": {"N": "1796193612.5"}}
OTHER_TYPE = COMPLETED | {"note": {"BOOL": True}}


def _readers() -> tuple[RecordTable, DynamoDBPersistenceLayer]:
    client = boto3.client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return (
        RecordTable(table_name="idempotency", boto3_client=client),
        DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=client),
    )


@pytest.mark.parametrize(
    "item",
    [COMPLETED, IN_PROGRESS, BARE, FRACTIONAL, OTHER_TYPE],
    ids=["completed", "in-progress", "bare", "fractional", "other-type"],
)
def test_a_record_reads_as_powertools_reads_it(item: dict[str, Any]) -> None:
    ours, powertools = (reader._item_to_data_record(item) for reader in _readers())
    assert vars(ours) == vars(powertools)
    assert ours.status == powertools.status
    assert ours.response_json_as_dict() == powertools.response_json_as_dict()


def test_timestamps_are_plain_integers_on_the_fast_path() -> None:
    ours, _ = _readers()
    record = ours._item_to_data_record(COMPLETED)
    assert type(record.expiry_timestamp) is int and type(record.in_progress_expiry_timestamp) is int


def test_an_item_without_its_key_is_refused_as_powertools_refuses_it() -> None:
    item = {key: value for key, value in COMPLETED.items() if key != "id"}
    for reader in _readers():
        with pytest.raises(KeyError):
            reader._item_to_data_record(item)


def _configured(reader: DynamoDBPersistenceLayer) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from products_api.api.idempotency import FINGERPRINT_FIELD, KEY_FIELD

    # as IdempotentWrite configures its table
    config = IdempotencyConfig(
        event_key_jmespath=KEY_FIELD, payload_validation_jmespath=FINGERPRINT_FIELD, hash_function="sha256"
    )
    reader.configure(config, key_prefix="products-api#patch-product")
    return reader


FINGERPRINTS = [
    {"method": "PATCH", "productId": "b" * 24, "body": '{"name":"Grüße"}'},
    # key order, escapes, characters outside the BMP, an empty body
    {"productId": "c" * 24, "method": "PATCH", "body": '{"description":"tab\\t \\"quoted\\" \U0001f600 \u2028"}'},
    {"method": "POST", "productId": "d" * 24, "imageSha256": "e" * 64},
    {"method": "PATCH", "productId": "f" * 24, "body": ""},
]
KEYS = ["ACME#3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70", "Société Générale#00000000-0000-4000-8000-000000000000"]


@pytest.mark.parametrize("fingerprint", FINGERPRINTS)
@pytest.mark.parametrize("key", KEYS)
def test_the_payload_hashes_as_powertools_hashes_it(key: str, fingerprint: dict[str, str]) -> None:
    """The record id and the validation hash taken from the payload directly are Powertools' own (its JMESPath
    search and encoder): records written before keep their ids, and a retry across a deploy still matches."""
    from products_api.api.idempotency import _Payload

    ours, powertools = (_configured(reader) for reader in _readers())
    payload = _Payload(key=key, fingerprint=fingerprint)
    expected_id = powertools._get_hashed_idempotency_key({"key": key, "fingerprint": fingerprint})
    expected_hash = powertools._get_hashed_payload({"key": key, "fingerprint": fingerprint})
    assert expected_id is not None and expected_id.startswith("products-api#patch-product#")
    assert ours._get_hashed_idempotency_key(payload) == expected_id
    assert ours._get_hashed_payload(payload) == expected_hash
    # asked again in the same request (a first request completes its record): the same, from the payload's memo
    assert (payload.record_id, payload.fingerprint_hash) == (expected_id, expected_hash)
    assert ours._get_hashed_idempotency_key(payload) == expected_id


def test_another_payload_is_hashed_by_powertools_itself() -> None:
    ours, powertools = (_configured(reader) for reader in _readers())
    plain = {"key": KEYS[0], "fingerprint": FINGERPRINTS[0]}
    assert ours._get_hashed_idempotency_key(plain) == powertools._get_hashed_idempotency_key(plain)
    assert ours._get_hashed_payload(plain) == powertools._get_hashed_payload(plain)


def test_the_payload_is_not_copied() -> None:
    """The payload Powertools hashes is handed over without a deep copy: it is built for one request and never
    changed, so its copy is itself."""
    from products_api.api.idempotency import _Payload

    payload = _Payload(key=KEYS[0], fingerprint=FINGERPRINTS[0])
    assert copy.deepcopy(payload) is payload
    assert payload == {"key": KEYS[0], "fingerprint": FINGERPRINTS[0]}
