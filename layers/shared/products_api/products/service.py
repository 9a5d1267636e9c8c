"""PATCH as a whole: the update, its outcome, and Powertools idempotency around it."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from products_api.api.idempotency import IdempotencyStore, IdempotentWrite, keyed_write_id
from products_api.api.requests import PatchRequest
from products_api.errors import DuplicateModel, PreconditionFailed, ProductNotFound
from products_api.products.rules import ProductUpdater, UpdateCommand

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from products_api.api.responses import Outcome
    from products_api.auth.credentials import Principal

# Outcomes that are the update's answer, kept for replay; anything else raised drops the record.
KEPT_ERRORS = (ProductNotFound, DuplicateModel, PreconditionFailed)
# Part of every record's key: renaming or moving the function must not orphan the records.
IDEMPOTENCY_KEY_PREFIX = "products-api#patch-product"
METHOD = "PATCH"
# The write id of `{}`, which reads the product and writes nothing: no write to identify, no random id to draw.
NO_WRITE = ""


def write_id_for(company_id: str, request: PatchRequest) -> str:
    """The same for every run of one request (company, Idempotency-Key, product and body), so a re-run after a lost
    record finds its write done; another body with the same key (once its record has expired) is another write.
    """
    if not request.patch.model_fields_set:
        return NO_WRITE  # `{}` writes nothing
    if request.idempotency_key is None or request.body_fingerprint is None:  # the fingerprint comes with a key
        return uuid.uuid4().hex
    return keyed_write_id(company_id, request.idempotency_key, request.product_id, request.body_fingerprint)


class PatchProductService:
    def __init__(
        self,
        updater: ProductUpdater,
        idempotency: IdempotencyStore,
    ) -> None:
        self._updater = updater
        self._context: LambdaContext | None = None
        self._writes: IdempotentWrite[UpdateCommand] = IdempotentWrite(KEPT_ERRORS, IDEMPOTENCY_KEY_PREFIX, idempotency)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """So an interrupted request's in-progress record expires with the function's own time limit, and
        contention is retried only while the function has time.
        """
        self._writes.register_lambda_context(context)
        self._context = context

    def _deadline(self) -> float | None:
        if self._context is None:
            return None
        return time.monotonic() + self._context.get_remaining_time_in_millis() / 1000

    def handle(self, principal: Principal, request: PatchRequest, request_id: str) -> Outcome:
        def command() -> UpdateCommand:
            return UpdateCommand(
                company_id=principal.company_id,
                product_id=request.product_id,
                patch=request.patch,
                version_condition=request.version_condition,
                write_id=write_id_for(principal.company_id, request),
                updated_by=principal.credential_id,
                deadline=self._deadline(),
                remember=request.idempotency_key is not None,
            )

        if request.idempotency_key is None:
            return self._writes.once(self._updater.update, command(), request_id)
        # the same key for another product or body is a reuse (422); a replay never builds the command
        fingerprint = {"method": METHOD, "productId": request.product_id, "body": request.body_fingerprint}
        return self._writes.keyed(
            self._updater.update, command, request_id, principal.company_id, request.idempotency_key, fingerprint
        )
