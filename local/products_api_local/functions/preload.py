"""What the containers' fork server imports once, so that a container's cold start costs its handler's own init only.

Every container forks from one server process (see `containers`). Importing boto3, botocore, pydantic and Powertools
takes most of a handler's import (seconds on a busy laptop); done once in the server, each fork finds them in memory,
as a Lambda execution environment finds its runtime's libraries already on disk and warm in the page cache.

Only libraries are listed, never the project's own modules: `products_api.observability` builds Powertools' logger,
metrics and tracer at import from the environment, which must be the function's (its container sets it after the
fork). Nothing here creates a client, opens a socket or starts a thread, which a fork would not carry over safely;
aws_xray_sdk builds an X-Ray sampling client at import, which connects nowhere until a sampler is started, and the
tracer is disabled locally.
"""

from __future__ import annotations

# The third-party modules the project's functions and their shared layer import, heaviest first. A module that is
# not installed is skipped by the fork server (it ignores ImportError), and the handler then imports what it needs.
LIBRARIES = (
    "boto3",
    "boto3.dynamodb.types",
    "botocore.session",
    "botocore.client",
    "botocore.config",
    "botocore.exceptions",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "simplejson",
    "aws_xray_sdk.core",
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.typing",
)
