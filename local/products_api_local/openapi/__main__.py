"""`python -m products_api_local.openapi`: print, write or check docs/openapi.json."""

import sys

from products_api_local.openapi.cli import main

sys.exit(main())
