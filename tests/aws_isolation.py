"""Imported first by conftest.py: nothing a test does may reach AWS, whatever the developer's shell holds.

Setting the environment is this module's whole job, at import, because it must happen before anything imports
products_api: Powertools' Logger and Metrics read POWERTOOLS_SERVICE_NAME and the namespace when the application's
observability module is first imported, as they do in a Lambda container whose environment is set before any import.
"""

from __future__ import annotations

import os

from products_api_local.functions.isolation import isolate_from_aws

REGION = "eu-west-1"
ENDPOINT_ENV_VAR = "AWS_ENDPOINT_URL_DYNAMODB"

# Nothing a test does may reach AWS, whatever the developer's shell holds: dummy credentials always win, and the
# profile, session token, endpoints and config files that could point boto3 elsewhere are dropped (the same helper as
# the runner's). The region is forced too: moto keeps tables per region, so a client in another region would not see
# the fixtures' tables. The DynamoDB endpoint is dropped as well: a test names its backend itself.
isolate_from_aws(os.environ, REGION, key="testing")
os.environ.pop(ENDPOINT_ENV_VAR, None)
os.environ.update(
    {
        # As template.yaml sets them for the function (test_observability checks they agree); Powertools reads them
        # when the handler's modules are imported.
        "POWERTOOLS_SERVICE_NAME": "products-api",
        "POWERTOOLS_METRICS_NAMESPACE": "ProductsApi",
    }
)
