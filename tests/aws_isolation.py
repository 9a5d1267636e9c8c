"""Imported first by conftest.py: nothing a test does may reach AWS, whatever the developer's shell holds.

Setting the environment is this module's whole job, at import, because it must happen before anything imports
products_api: Powertools' Logger and Metrics read POWERTOOLS_SERVICE_NAME and the namespace when the application's
observability module is first imported, as they do in a Lambda container whose environment is set before any import.
"""

from __future__ import annotations

import os

REGION = "eu-west-1"
ENDPOINT_ENV_VAR = "AWS_ENDPOINT_URL_DYNAMODB"

# Nothing a test does may reach AWS, whatever the developer's shell holds: dummy credentials always win, and the
# profile, session token, endpoints and config files that could point boto3 elsewhere are dropped. The region is
# forced too: moto keeps tables per region, so a client in another region would not see the fixtures' tables.
for _variable in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    ENDPOINT_ENV_VAR,
):
    os.environ.pop(_variable, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # As template.yaml sets them for the function (test_observability checks they agree); Powertools reads them
        # when the handler's modules are imported.
        "POWERTOOLS_SERVICE_NAME": "products-api",
        "POWERTOOLS_METRICS_NAMESPACE": "ProductsApi",
    }
)
