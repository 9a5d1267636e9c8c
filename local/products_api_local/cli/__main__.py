"""`python -m products_api_local.cli`: the `products-api` command."""

import sys

from products_api_local.cli.commands import main

sys.exit(main())
