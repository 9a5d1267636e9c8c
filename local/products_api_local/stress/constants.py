"""What every part of the history checker agrees on: the region, the company, the credential, the tables."""

from __future__ import annotations

REGION = "eu-west-1"
COMPANY = "STRESS"
TOKEN = "tp_stress_checker_token_000000000000000000"  # noqa: S105  # a local test credential
# The variables the update function reads its tables from (template.yaml), by logical id.
TABLE_ENV_VARS = {
    "ProductsTable": "PRODUCTS_TABLE_NAME",
    "IdempotencyTable": "IDEMPOTENCY_TABLE_NAME",
    "CredentialsTable": "CREDENTIALS_TABLE_NAME",
    "HistoryTable": "HISTORY_TABLE_NAME",
    "LimitsTable": "LIMITS_TABLE_NAME",
}
# The write rate is on (every write pays the limiter's call) but never reached by itself: the `rate_limited` fault
# refuses chosen requests, so a refusal lands between other clients' writes and must leave no trace.
WRITE_RATE_PER_MINUTE = "1000000"
# Kept for replay by the contract: a repeat with the same key must answer exactly this again.
KEPT_CODES = frozenset({None, "not_found", "duplicate_model", "precondition_failed"})
API_FIELDS = ("name", "model", "description", "defaultFieldValues", "imageUrls", "status", "sourceLocale")
