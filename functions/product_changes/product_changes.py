"""The products table's stream: each product write becomes a history entry and an event; failures are reported per
record (Powertools' batch utility), so Lambda retries only from the first record that failed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.observability import logger
from products_api.history.recorder import StreamChange, get_recorder

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class EarlierRecordFailed(Exception):
    """A record after a failed one: reported failed too, so Lambda redelivers it after the failed one."""


def record_handler(record: DynamoDBRecord) -> None:
    recorded = get_recorder().record(StreamChange.from_record(record))
    if recorded is not None:
        entry = recorded.entry
        logger.info(
            "product change recorded" if recorded.published else "product change already recorded and published",
            extra={
                "company_id": entry.company_id,
                "product_id": entry.product_id,
                "version": entry.version,
                "changed_fields": [change.field for change in entry.changes],
            },
        )


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # Powertools' batch processor goes on past a failed record; Lambda redelivers from the first failure. Were a
    # later record of the same product processed now, its event (v3) would go out before the retried one's (v2).
    # So once a record fails, every later record of the invocation fails unprocessed, and order is kept.
    failed = False

    def in_order(record: DynamoDBRecord) -> None:
        nonlocal failed
        if failed:
            raise EarlierRecordFailed(record.event_id)
        try:
            record_handler(record)
        except Exception:
            failed = True
            raise

    return process_partial_response(event=event, record_handler=in_order, processor=processor, context=context)
