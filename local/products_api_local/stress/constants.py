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
}
# Kept for replay by the contract: a repeat with the same key must answer exactly this again.
KEPT_CODES = frozenset({None, "not_found", "duplicate_model", "precondition_failed"})
API_FIELDS = ("name", "model", "description", "defaultFieldValues", "imageUrls", "status", "sourceLocale")
