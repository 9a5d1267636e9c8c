"""Keep boto3 away from real AWS: the one helper the runner, its function containers, the bench and the tests share.

Whatever the shell holds (a profile, a session token, a config file), code run locally must never reach a real
account: the credentials are dummy ones, the shared config and credentials files are not read, and the region is set.
DynamoDB Local (with -sharedDb) and moto accept any credentials.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# Variables through which boto3 would find real credentials or a real endpoint.
REMOVED_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
)


def aws_isolation(region: str, key: str = "local") -> dict[str, str]:
    """The variables that pin boto3 to dummy credentials in `region`, reading no file under ~/.aws."""
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": key,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def isolate_from_aws(environment: MutableMapping[str, str], region: str, key: str = "local") -> None:
    """Apply `aws_isolation` to `environment` (os.environ, or a child process's environment) in place."""
    for variable in REMOVED_VARIABLES:
        environment.pop(variable, None)
    environment.update(aws_isolation(region, key))
