"""A write route under Powertools idempotency: PATCH and the direct image upload run their write through one of these.

With an Idempotency-Key the outcome (a product, or one of the route's kept errors) is recorded and replayed; without
one the write simply runs. Powertools' own failures become the API's errors here, once for every route.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from products_api.api.responses import Outcome, error_outcome, product_outcome
from products_api.errors import DomainError, IdempotencyInProgress, IdempotencyKeyReused, StoreUnavailable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from products_api.products.models import Product

CommandT = TypeVar("CommandT")
# Where Powertools finds the two parts of the payload it hashes (its JMESPath expressions, and `_Payload`'s keys).
KEY_FIELD = "key"
FINGERPRINT_FIELD = "fingerprint"
# What Powertools' `_generate_hash` writes before hashing, for the JSON values a `_Payload` holds (strings and maps of
# them): its `json.dumps(data, cls=..., sort_keys=True)`, with one encoder kept rather than one built per hash.
_HASHED_TEXT = json.JSONEncoder(sort_keys=True)
Write = Callable[[CommandT], "Product"]


@dataclass(frozen=True)
class IdempotencyStore:
    """Where a function keeps its idempotency records, and how long a record answers replays."""

    client: DynamoDBClient
    table_name: str
    expiry_seconds: int


def keyed_write_id(company_id: str, idempotency_key: str, product_id: str, body_fingerprint: str) -> str:
    """The write id of a request with an Idempotency-Key: the same on every run of it, so a re-run after a lost record
    finds its write done (the store remembers the write ids of keyed writes)."""
    identity = "\n".join((company_id, idempotency_key, product_id, body_fingerprint))
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


class RecordTable(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB persistence layer, reading a record's item without boto3's `TypeDeserializer`, and
    hashing a `_Payload` without JMESPath.

    A replay's record arrives as the `ALL_OLD` image of the failed conditional PutItem and is turned into a
    `DataRecord` on every replay. Its attributes are strings and two integer timestamps; the deserializer built a
    method name per attribute and each timestamp as a Decimal in its own context, about 30 us of a replay (measured
    in the bench's request, not in a loop). Anything else an item could hold goes to Powertools' own reader.

    The record id and the validation hash are Powertools' own (the same JSON text, the same hash function), taken
    from the payload's two keys directly: its JMESPath searches built an interpreter per search and its hashing an
    encoder per hash, on every keyed request. Any other payload is hashed by Powertools itself.
    `tests/unit/test_idempotency_records.py` holds both to Powertools' results.
    """

    def _item_to_data_record(self, item: dict[str, Any]) -> DataRecord:
        try:
            read = {name: _plain_value(value) for name, value in item.items()}
        except (KeyError, ValueError):
            return super()._item_to_data_record(item)

        def optional(name: str) -> Any:
            return read.get(name)  # None when absent, as Powertools' own reader gives

        return DataRecord(
            idempotency_key=read[self.key_attr],
            status=read[self.status_attr],
            expiry_timestamp=read[self.expiry_attr],
            in_progress_expiry_timestamp=optional(self.in_progress_expiry_attr),
            response_data=optional(self.data_attr),
            payload_hash=optional(self.validation_key_attr),
            sort_key=read[self.sort_key_attr] if self.sort_key_attr is not None else None,
        )

    def _get_hashed_idempotency_key(self, data: dict[str, Any]) -> str | None:
        """The record id of a `_Payload`: what Powertools computes, without its JMESPath search, and once per request
        (a first request asks for it when the record goes in progress and again when it completes)."""
        if not isinstance(data, _Payload):
            return super()._get_hashed_idempotency_key(data)
        if data.record_id is None:
            data.record_id = f"{self.function_name}#{self._text_hash(data[KEY_FIELD])}"
        return data.record_id

    def _get_hashed_payload(self, data: dict[str, Any]) -> str:
        """The validation hash of a `_Payload`, as Powertools computes it, once per request."""
        if not isinstance(data, _Payload):
            return super()._get_hashed_payload(data)
        if data.fingerprint_hash is None:
            data.fingerprint_hash = self._text_hash(data[FINGERPRINT_FIELD])
        return data.fingerprint_hash

    def _text_hash(self, value: Any) -> str:
        return str(self.hash_function(_HASHED_TEXT.encode(value).encode()).hexdigest())


def _plain_value(value: dict[str, Any]) -> Any:
    """A string as it is, an integer as an int; KeyError or ValueError for any other attribute value."""
    text = value.get("S")
    if text is not None:
        return text
    return int(value["N"])


class _Payload(dict[str, Any]):
    """What Powertools hashes for a keyed write: the key, and the fingerprint of what the request asks for, with the
    two hashes `RecordTable` computes of them, kept for the rest of the request.

    Powertools deep-copies the payload it is given (a decorated function might change its argument). This one is built
    for one request, handed to Powertools alone and never changed, so its copy is itself: the deep copy walked it
    through `copy.deepcopy`'s Python machinery on every keyed request, replays included.
    """

    def __init__(self, key: str, fingerprint: dict[str, Any]) -> None:
        super().__init__({KEY_FIELD: key, FINGERPRINT_FIELD: fingerprint})
        self.record_id: str | None = None
        self.fingerprint_hash: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> _Payload:
        return self


class IdempotentWrite(Generic[CommandT]):
    """One route's writes. A write turns a command into the product it leaves; `kept_errors` are the refusals that
    are its answer (kept for replay); anything else raised drops the record, so a retry runs the write again. The
    write is handed in with each call, looked up then: tests replace a service's parts on a built runtime.
    """

    def __init__(
        self,
        kept_errors: tuple[type[DomainError], ...],
        key_prefix: str,
        store: IdempotencyStore,
    ) -> None:
        self._kept_errors = kept_errors
        self._config = IdempotencyConfig(
            event_key_jmespath=KEY_FIELD,
            payload_validation_jmespath=FINGERPRINT_FIELD,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=store.expiry_seconds,
            hash_function="sha256",
        )
        # One persistence layer per decorated function: an instance keeps the first config it is given.
        persistence = RecordTable(table_name=store.table_name, boto3_client=store.client)
        # The record's key is the prefix and the hash, never the function's name: renaming must not orphan records.
        self._run_idempotently = idempotent_function(
            data_keyword_argument="idempotency",
            persistence_store=persistence,
            config=self._config,
            key_prefix=key_prefix,
        )(self._run)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """So an interrupted request's in-progress record expires with the function's own time limit."""
        self._config.register_lambda_context(context)

    def once(self, write: Write[CommandT], command: CommandT, request_id: str) -> Outcome:
        """The write without a key: nothing recorded, its outcome answered as it is."""
        try:
            return product_outcome(write(command))
        except self._kept_errors as exc:
            return error_outcome(exc, request_id)

    def _run(
        self,
        *,
        write: Write[CommandT],
        command: Callable[[], CommandT],
        request_id: str,
        outcomes: list[Outcome],
        idempotency: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        outcome = self.once(write, command(), request_id)
        outcomes.append(outcome)
        return outcome.to_record()

    def keyed(
        self,
        write: Write[CommandT],
        command: Callable[[], CommandT],
        request_id: str,
        company_id: str,
        idempotency_key: str,
        fingerprint: dict[str, Any],
    ) -> Outcome:
        """The write under `idempotency_key`, scoped to the company; the same key with another `fingerprint` (what
        the request asks for) is a reuse (422), and the same key still running is a conflict (409). The command is
        built only when the write runs: a replay answers from its record and needs none.
        """
        # the write's outcome, when it ran in this request: none means the answer is a kept one, replayed
        outcomes: list[Outcome] = []
        idempotency = _Payload(key=f"{company_id}#{idempotency_key}", fingerprint=fingerprint)
        try:
            record = self._run_idempotently(
                write=write, command=command, request_id=request_id, outcomes=outcomes, idempotency=idempotency
            )
        except IdempotencyAlreadyInProgressError as exc:
            raise IdempotencyInProgress(str(exc)) from exc
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReused(str(exc)) from exc
        except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as exc:
            if outcomes:
                # The write happened but its record could not be completed: the client gets the truth.
                # The in-progress record expires with the function's time limit.
                return outcomes[0]
            raise StoreUnavailable("idempotency store") from exc
        if outcomes:
            return outcomes[0]
        return Outcome.from_record(record, replayed=True)
