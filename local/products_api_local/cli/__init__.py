"""`products-api`: mint, list and revoke credentials, and import products.

Which DynamoDB it talks to, first match wins:
  --stack NAME        a deployed stack: the table names come from its outputs, AWS access from your AWS config
                      (profile, region or --region), as for the AWS CLI;
  PRODUCTS_TABLE_NAME and CREDENTIALS_TABLE_NAME in the environment (with AWS_ENDPOINT_URL_DYNAMODB for a
                      DynamoDB of your own);
  the running `make serve`: its DynamoDB Local, found through .dynamodb/endpoint.json (nothing to set).

A token is never an argument (shell history and `ps` would keep it): `credentials revoke` takes the credential id
that `credentials list` shows, or reads a token from a file or stdin (--token-file -).
"""

from products_api_local.cli.commands import company_id, main, positive_seconds, read_token, run
from products_api_local.cli.products_import import (
    ImportReport,
    ModelsTaken,
    import_product_id,
    import_products,
    read_products_file,
    write_products,
)
from products_api_local.cli.targets import (
    LIMITS_OUTPUT,
    LOCAL_DATA_DIR,
    LOCAL_TABLES,
    STACK_OUTPUTS,
    CliError,
    Target,
    environment_target,
    local_target,
    resolve_target,
    stack_target,
)

__all__ = [
    "LIMITS_OUTPUT",
    "LOCAL_DATA_DIR",
    "LOCAL_TABLES",
    "STACK_OUTPUTS",
    "CliError",
    "ImportReport",
    "ModelsTaken",
    "Target",
    "company_id",
    "environment_target",
    "import_product_id",
    "import_products",
    "local_target",
    "main",
    "positive_seconds",
    "read_products_file",
    "read_token",
    "resolve_target",
    "run",
    "stack_target",
    "write_products",
]
