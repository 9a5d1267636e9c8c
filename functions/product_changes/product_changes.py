"""The products table's stream: each product write becomes a history entry and an event; failures are reported per
record (Powertools' batch utility), so Lambda retries only from the first record that failed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.changes import StreamChange, get_recorder

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


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


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
