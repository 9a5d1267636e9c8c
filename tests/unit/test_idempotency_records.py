"""The idempotency table's record reader (`api.idempotency.RecordTable`) against Powertools' own: every record an item
can hold reads the same, field by field, so a replay is answered exactly as Powertools would answer it; and the payload
it hashes, handed over without a copy, hashes as before.
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


def test_the_payload_is_not_copied_and_hashes_as_a_plain_dict() -> None:
    """The payload Powertools hashes is handed over without a deep copy, and hashes exactly as the plain dict it
    replaced: records written before the change keep their ids and validation hashes."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from products_api.api.idempotency import _Payload

    fingerprint = {"method": "PATCH", "productId": "b" * 24, "body": '{"name":"Grüße"}'}
    plain = {"key": "ACME#3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70", "fingerprint": fingerprint}
    payload = _Payload(key=plain["key"], fingerprint=fingerprint)
    assert copy.deepcopy(payload) is payload and payload == plain
    ours, _ = _readers()
    config = IdempotencyConfig(
        event_key_jmespath="key", payload_validation_jmespath="fingerprint", hash_function="sha256"
    )
    ours.configure(config, key_prefix="products-api#patch-product")
    assert ours._get_hashed_idempotency_key(payload) == ours._get_hashed_idempotency_key(plain)
    assert ours._get_hashed_payload(payload) == ours._get_hashed_payload(plain)
