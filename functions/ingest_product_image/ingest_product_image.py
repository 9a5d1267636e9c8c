"""S3 ObjectCreated notifications of the uploads/ prefix: each landed upload is judged, then appended or refused.

Notifications arrive at least once: the upload's record moves from pending once, and the append does nothing for an
image already in the list, so a repeated notification changes nothing. A failure (DynamoDB or S3 unavailable) raises:
Lambda retries the asynchronous invocation, which picks up where the last one stopped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.observability import logger
from products_api.images.runtime import get_ingest_runtime


@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime = get_ingest_runtime()
    results = []
    for record in S3Event(event).records:
        if not record.event_name.startswith("ObjectCreated:"):
            continue
        # S3 sends the key URL-encoded, spaces as '+'
        result = runtime.ingest.ingest(record.s3.bucket.name, unquote_plus(record.s3.get_object.key))
        logger.info(
            f"image upload {result.outcome}",
            extra={"upload_id": result.upload_id, "outcome": result.outcome, "detail": result.detail},
        )
        results.append({"uploadId": result.upload_id, "outcome": result.outcome})
    return {"results": results}
