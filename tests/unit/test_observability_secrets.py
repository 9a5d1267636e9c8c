"""No credential in any log line, at any level: the redaction of tokens in text and of sensitive keys."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import boto3
import pytest
from observability_support import Observe, explode
from products_api.api import observability, redaction
from products_api.products.rules import ProductUpdater
from products_api.products.runtime import Runtime
from support import (
    EVENT_PRODUCT_ID,
    EVENT_TOKEN,
    Api,
    handler_module,
    product_event,
)

on_moto = pytest.mark.parametrize("backend", ["moto"], indirect=True)


# --- secrets ---------------------------------------------------------------------------------------------------------


@on_moto
def test_no_credential_in_any_log_even_at_debug(
    api: Api,
    observe: Observe,
    boto3_session: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An exception whose message carries the Authorization header (as a dict, a repr, a header line), at DEBUG on
    every logger, with the function's AWS credentials and session token in play: none of them is written."""
    caplog.set_level(logging.DEBUG)
    oauth_token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8"
    access_key, session_token = "AKIAOBSERVABILITY000", "IQoJb3JpZ2luX2VjEObservabilitySessionToken"
    client = boto3_session.client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="observability-secret-access-key",
        aws_session_token=session_token,
    )
    runtime = Runtime.build(api.settings, client)
    monkeypatch.setattr(handler_module(), "get_runtime", lambda: runtime)
    api.add_product(EVENT_PRODUCT_ID, model="OBS-1")
    # a successful request: botocore signs it with the credentials above
    assert observe(product_event(EVENT_PRODUCT_ID, {"name": "signed"})).response.status == 200

    leak = (
        f"headers={{'authorization': 'Bearer {EVENT_TOKEN}', 'x-amz-security-token': '{session_token}'}}\n"
        f"Authorization: Bearer {oauth_token}\n"
        f"key {EVENT_TOKEN} in a sentence"
    )
    monkeypatch.setattr(ProductUpdater, "update", explode(leak))
    failed = observe(product_event(EVENT_PRODUCT_ID, {"name": "boom"}))
    assert failed.response.status == 500
    assert failed.line["exception_name"] == "RuntimeError"
    assert redaction.REDACTED in failed.line["exception"]  # the line was written, masked

    captured = capsys.readouterr()
    # pytest hangs its capture handler on every logger, the function's own too, where it sees records before the
    # function's (redacting) handler formats them; in Lambda that logger has no other handler and does not propagate.
    others = [record for record in caplog.records if record.name != observability.logger.name]
    assert any(record.name.startswith("botocore") for record in others) is False, "botocore logged below WARNING"
    everything = "\n".join(
        [failed.log_text, captured.out, captured.err, *(f"{r.getMessage()} {r.exc_text} {r.args}" for r in others)]
    )
    for secret in (EVENT_TOKEN, EVENT_TOKEN.removeprefix("tp_"), oauth_token, session_token, access_key):
        assert secret not in everything


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("{'Authorization': 'Bearer abcdefghijklmnop1234'}", "abcdefghijklmnop1234"),
        ('{"authorization":"tokentokentoken"}', "tokentokentoken"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("authorization=b'AWS4-HMAC-SHA256 Credential=ASIAABCDEFGHIJKLMNOP/x, Signature=f00d'", "ASIAABCDEFGHIJKLMNOP"),
        ("X-Amz-Security-Token: IQoJsessiontoken", "IQoJsessiontoken"),
        ("the key tp_aB3-dEf_GhIjKlMnOpQrStUvWxYz0123456789abcdefg leaked", "aB3-dEf_GhIjKlMnOpQrStUvWxYz"),
        ("bearer  lower.case-token~with/chars+==", "lower.case-token"),
    ],
)
def test_redact_masks_credentials_in_text(text: str, secret: str) -> None:
    redacted = redaction.redact_text(text)
    assert secret not in redacted
    assert redaction.REDACTED in redacted


def test_a_line_without_secrets_is_written_as_the_masking_path_would_write_it() -> None:
    line = {"message": "request completed", "status": 200, "tags": ("a", "b"), "when": uuid.UUID(int=7), "n": None}
    assert redaction.redacted_json(line) == json.dumps(redaction.redact(line), separators=(",", ":"))


@pytest.mark.parametrize(
    "value",
    [
        "Basic\ndXNlcjpwYXNzd29yZA==",
        "x-amz-security-token: FwoGZXIvYXdzEJr",
        {"nested": {"Authorization": "anything"}},
        ["tp_" + "k" * 40],
    ],
)
def test_a_line_that_might_hold_a_secret_is_masked(value: Any) -> None:
    written = redaction.redacted_json({"message": "m", "value": value})
    assert "[REDACTED]" in written
    assert written == json.dumps(redaction.redact({"message": "m", "value": value}), separators=(",", ":"))


def test_redact_masks_sensitive_keys_and_keeps_the_rest() -> None:
    record = {
        "message": "request completed",
        "credential_id": "cred_0123",
        "headers": {"Authorization": "anything at all", "Content-Type": "application/json"},
        "items": [{"password": "p"}, {"token": "t"}, "plain"],
        "count": 3,
        "empty": None,
    }
    assert redaction.redact(record) == {
        "message": "request completed",
        "credential_id": "cred_0123",
        "headers": {"Authorization": redaction.REDACTED, "Content-Type": "application/json"},
        "items": [{"password": redaction.REDACTED}, {"token": redaction.REDACTED}, "plain"],
        "count": 3,
        "empty": None,
    }
