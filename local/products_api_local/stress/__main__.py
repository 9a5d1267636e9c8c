"""`python -m products_api_local.stress`: a run of the history checker (see cli.py)."""

import sys

from products_api_local.stress.cli import main

sys.exit(main())
