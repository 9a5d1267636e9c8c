"""The API reference (docs/api.md), PATCH: authentication and scopes, other companies' products, model uniqueness
and If-Match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import EVENT_TOKEN, Api, assert_error

OTHER_TOKEN = "tp_other_company_token_000000000000000000"
READ_ONLY_TOKEN = "tp_read_only_token_0000000000000000000000"


# --- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer short", "Bearer tp_" + "x" * 40, "tp_" + "x" * 40],
)
def test_unauthorized(api: Api, product: Any, authorization: str | None) -> None:
    headers = {"authorization": authorization}
    response = api.patch(product.id, {"name": "x"}, headers, token=None)  # type: ignore[arg-type]
    assert_error(response, 401, "unauthorized")
    assert (response.header("WWW-Authenticate") or "").startswith("Bearer")
    assert api.stored_item(product.id)["name"] == product.name  # type: ignore[index]


def test_bearer_scheme_is_case_insensitive(api: Api, product: Any) -> None:
    assert api.patch(product.id, {"name": "x"}, {"authorization": f"bearer {EVENT_TOKEN}"}, token=None).status == 200


def test_revoked_and_expired_credentials(api: Api, product: Any) -> None:
    revoked, expired = "tp_revoked_token_000000000000000000000000", "tp_expired_token_000000000000000000000000"
    api.add_credential(revoked, revoked=True)
    api.add_credential(expired, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    body = assert_error(api.patch(product.id, {"name": "x"}, token=revoked), 401, "unauthorized")
    assert "revoked" in body["error"]
    body = assert_error(api.patch(product.id, {"name": "x"}, token=expired), 401, "unauthorized")
    assert "expired" in body["error"]


def test_oauth_access_token(api: Api, product: Any) -> None:
    token = "Xy3_oauth-access.token~0000000000000000"
    api.add_credential(token, kind="oauth")
    assert api.patch(product.id, {"name": "x"}, token=token).status == 200


def test_credential_without_write_scope_is_forbidden(api: Api, product: Any) -> None:
    api.add_credential(READ_ONLY_TOKEN, scopes=("products:read",))
    response = api.patch(product.id, {"name": "x"}, token=READ_ONLY_TOKEN)
    assert_error(response, 403, "insufficient_scope")
    assert 'scope="products:write"' in (response.header("WWW-Authenticate") or "")


def test_authentication_comes_before_anything_else(api: Api) -> None:
    response = api.patch("not-an-id", "not json", {"content-type": "text/plain"}, token=None)
    assert_error(response, 401, "unauthorized")


def test_another_companys_product_is_not_found(api: Api, product: Any) -> None:
    api.add_credential(OTHER_TOKEN, company_id="GLOBEX")
    before = api.stored_item(product.id)
    body = assert_error(api.patch(product.id, {"name": "stolen"}, token=OTHER_TOKEN), 404, "not_found")
    assert body["error"] == "Product not found"
    assert api.stored_item(product.id) == before
    assert api.stored_item(product.id, company_id="GLOBEX") is None


def test_unknown_product_is_not_found_and_not_created(api: Api) -> None:
    missing = "aaaaaaaaaaaaaaaaaaaaaaaa"
    assert_error(api.patch(missing, {"name": "x"}), 404, "not_found")
    assert_error(api.patch(missing, {}), 404, "not_found")
    assert_error(api.patch(missing, {"model": "NEW"}), 404, "not_found")
    assert api.all_items() == []


# --- model uniqueness -----------------------------------------------------------------------------


def test_duplicate_model_in_the_same_company(api: Api, product: Any) -> None:
    other = api.add_product(model="TAKEN-1")
    before = api.stored_item(product.id)
    for spelling in ("TAKEN-1", "taken-1", " Taken-1 "):
        body = assert_error(api.patch(product.id, {"model": spelling, "name": "x"}), 409, "duplicate_model")
        assert body["error"] == "A product with this model already exists for your company"
    assert api.stored_item(product.id) == before
    assert api.model_locks() == {"MODEL#li-48v-20ah": product.id, "MODEL#taken-1": other.id}


def test_model_is_compared_after_nfc_and_case_folding(api: Api, product: Any) -> None:
    api.add_product(model="STRASSE-\u00c9")  # É precomposed
    decomposed = "strasse-E\u0301"  # E + combining acute
    assert_error(api.patch(product.id, {"model": decomposed}), 409, "duplicate_model")
    assert_error(api.patch(product.id, {"model": "STRAßE-é"}), 409, "duplicate_model")


def test_same_model_in_another_company_is_fine(api: Api, product: Any) -> None:
    api.add_product(company_id="GLOBEX", model="SHARED")
    response = api.patch(product.id, {"model": "SHARED"})
    assert response.status == 200
    assert response.json["model"] == "SHARED"


def test_rename_frees_the_old_model_at_once(api: Api, product: Any) -> None:
    other = api.add_product(model="OTHER-1")
    assert api.patch(product.id, {"model": "RENAMED"}).status == 200
    response = api.patch(other.id, {"model": "LI-48V-20AH"})
    assert response.status == 200, response.body
    assert api.model_locks() == {"MODEL#renamed": product.id, "MODEL#li-48v-20ah": other.id}


def test_case_only_rename_keeps_the_lock_and_the_clients_spelling(api: Api, product: Any) -> None:
    response = api.patch(product.id, {"model": "li-48v-20ah", "name": "lower"})
    assert response.status == 200, response.body
    assert response.json["model"] == "li-48v-20ah"
    assert response.json["version"] == 2
    assert api.model_locks() == {"MODEL#li-48v-20ah": product.id}


def test_archived_products_keep_their_model(api: Api, product: Any) -> None:
    archived = api.add_product(model="OLD-MODEL", status="archived")
    assert_error(api.patch(product.id, {"model": "old-model"}), 409, "duplicate_model")
    assert api.stored_item(archived.id) is not None


# --- If-Match -------------------------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ['"1"', "*", 'W/"0", "1"', '"7", "1"'])
def test_if_match_that_matches(api: Api, product: Any, if_match: str) -> None:
    assert api.patch(product.id, {"name": "x"}, {"If-Match": if_match}).status == 200


@pytest.mark.parametrize("body", [{"name": "x"}, {"model": "NEW-M"}, {}, {"model": "li-48v-20ah"}])
@pytest.mark.parametrize("if_match", ['"2"', 'W/"1"', '"abc"', "1", "garbage"])
def test_stale_or_malformed_if_match_is_refused(api: Api, product: Any, body: dict[str, Any], if_match: str) -> None:
    before = api.stored_item(product.id)
    response = api.patch(product.id, body, {"If-Match": if_match})
    assert_error(response, 412, "precondition_failed")
    assert api.stored_item(product.id) == before
    assert api.model_locks() == {"MODEL#li-48v-20ah": product.id}


def test_precondition_failure_tells_the_current_etag(api: Api, product: Any) -> None:
    api.patch(product.id, {"name": "v2"})
    response = api.patch(product.id, {"name": "stale"}, {"If-Match": '"1"'})
    assert_error(response, 412, "precondition_failed")
    assert response.header("ETag") == '"2"'
    assert api.patch(product.id, {"name": "fresh"}, {"If-Match": response.header("ETag") or ""}).status == 200


def test_if_match_on_a_missing_product_is_not_found(api: Api) -> None:
    assert_error(api.patch("bbbbbbbbbbbbbbbbbbbbbbbb", {"name": "x"}, {"If-Match": '"1"'}), 404, "not_found")
