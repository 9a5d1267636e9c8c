"""A history checker for the update path, after Jepsen and Elle: many clients in separate processes (each like a
Lambda container: its own runtime and DynamoDB client, no lock between them) send a mix of requests, with faults
injected, and record every request and answer; then the history is checked against DynamoDB's own record of what
happened (the products table's stream, which the change history is made from) and the table's final state.

`python -m products_api_local.stress` (`make stress ARGS="--duration 120 --processes 4"`) starts DynamoDB Local, runs
the mix and prints the count of each outcome and every violation;
tests/contract/test_history_checker.py runs a short one.

Clients reach the API through a transport: a callable taking a `Request` and returning an `Answer`. The default one
calls the update function's `lambda_handler` in the client's process and injects the faults into its DynamoDB client;
the "http" one (stress/over_http.py, `--http`) sends them to the local runner. Each is registered in `TRANSPORTS`.
"""

from products_api_local.stress.checker import Report, check
from products_api_local.stress.cli import Setup, main, prepare, run, stream_records, table_items
from products_api_local.stress.clients import Entry, Plan, run_clients
from products_api_local.stress.constants import (
    API_FIELDS,
    COMPANY,
    KEPT_CODES,
    REGION,
    TABLE_ENV_VARS,
    TOKEN,
    WRITE_RATE_PER_MINUTE,
)
from products_api_local.stress.faults import InvocationLost, conflict_response, error_response, failing, write_then_die
from products_api_local.stress.transports import TRANSPORTS, Answer, HandlerTransport, Request, Transport

__all__ = [
    "API_FIELDS",
    "COMPANY",
    "KEPT_CODES",
    "REGION",
    "TABLE_ENV_VARS",
    "TOKEN",
    "TRANSPORTS",
    "WRITE_RATE_PER_MINUTE",
    "Answer",
    "Entry",
    "HandlerTransport",
    "InvocationLost",
    "Plan",
    "Report",
    "Request",
    "Setup",
    "Transport",
    "check",
    "conflict_response",
    "error_response",
    "failing",
    "main",
    "prepare",
    "run",
    "run_clients",
    "stream_records",
    "table_items",
    "write_then_die",
]
