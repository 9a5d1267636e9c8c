"""PATCH as a whole: the update, its outcome, and Powertools idempotency around it."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import TYPE_CHECKING, Any

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

from products_api.api.requests import PatchRequest
from products_api.api.responses import Outcome, error_outcome, product_outcome
from products_api.errors import (
    DuplicateModel,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    PreconditionFailed,
    ProductNotFound,
    StoreUnavailable,
)
from products_api.products.rules import ProductUpdater, UpdateCommand

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from products_api.auth.credentials import Principal

# Outcomes that are the update's answer, kept for replay; anything else raised drops the record.
KEPT_ERRORS = (ProductNotFound, DuplicateModel, PreconditionFailed)
# Part of every record's key: renaming or moving the function must not orphan the records.
IDEMPOTENCY_KEY_PREFIX = "products-api#patch-product"
METHOD = "PATCH"


def write_id_for(company_id: str, request: PatchRequest) -> str:
    """The same for every run of one request (company, Idempotency-Key, product and body), so a re-run after a lost
    record finds its write done; another body with the same key (once its record has expired) is another write.
    """
    if request.idempotency_key is None:
        return uuid.uuid4().hex
    return keyed_write_id(company_id, request.idempotency_key, request.product_id, request.body_fingerprint)


def keyed_write_id(company_id: str, idempotency_key: str, product_id: str, body_fingerprint: str) -> str:
    identity = "\n".join((company_id, idempotency_key, product_id, body_fingerprint))
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "replayed": True}


class PatchProductService:
    def __init__(
        self,
        updater: ProductUpdater,
        idempotency_client: DynamoDBClient,
        idempotency_table: str,
        idempotency_expiry_seconds: int,
    ) -> None:
        self._updater = updater
        self._context: LambdaContext | None = None
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="fingerprint",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=idempotency_expiry_seconds,
            hash_function="sha256",
            response_hook=_mark_replayed,
        )
        # One persistence layer per decorated function: an instance keeps the first config it is given.
        persistence = DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=idempotency_client)
        self._run_idempotently = idempotent_function(
            data_keyword_argument="idempotency",
            persistence_store=persistence,
            config=self._config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )(self._run)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """So an interrupted request's in-progress record expires with the function's own time limit, and
        contention is retried only while the function has time.
        """
        self._config.register_lambda_context(context)
        self._context = context

    def _deadline(self) -> float | None:
        if self._context is None:
            return None
        return time.monotonic() + self._context.get_remaining_time_in_millis() / 1000

    def _run(
        self,
        *,
        command: UpdateCommand,
        request_id: str,
        outcomes: list[Outcome],
        idempotency: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            outcome = product_outcome(self._updater.update(command))
        except KEPT_ERRORS as exc:
            outcome = error_outcome(exc, request_id)
        outcomes.append(outcome)
        return outcome.to_record()

    def handle(self, principal: Principal, request: PatchRequest, request_id: str) -> Outcome:
        command = UpdateCommand(
            company_id=principal.company_id,
            product_id=request.product_id,
            patch=request.patch,
            version_condition=request.version_condition,
            write_id=write_id_for(principal.company_id, request),
            updated_by=principal.credential_id,
            deadline=self._deadline(),
            remember=request.idempotency_key is not None,
        )
        outcomes: list[Outcome] = []
        if request.idempotency_key is None:
            return Outcome.from_record(self._run(command=command, request_id=request_id, outcomes=outcomes))
        idempotency = {
            # keys are scoped to the company; the same key for another product or body is a reuse (422)
            "key": f"{principal.company_id}#{request.idempotency_key}",
            "fingerprint": {"method": METHOD, "productId": request.product_id, "body": request.body_fingerprint},
        }
        try:
            record = self._run_idempotently(
                command=command, request_id=request_id, outcomes=outcomes, idempotency=idempotency
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
        return Outcome.from_record(record, replayed=bool(record.get("replayed")))
