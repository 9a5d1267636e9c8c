"""`products-api limits set|show`: a company's own rate and quota, as the limiter and the usage route read them."""

from __future__ import annotations

import json

import pytest
from products_api.limits.store import LimitsStore
from products_api_local.cli import main
from support import Api


def _plan(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = capsys.readouterr().out.strip().splitlines()
    return dict(json.loads(out[-1]))


def test_set_then_show_then_back_to_the_defaults(
    api: Api, table_names: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["limits", "set", "--company", "ACME", "--rate", "5", "--quota", "1000"]) == 0
    assert _plan(capsys) | {"month": None} == {
        "companyId": "ACME",
        "rate": 5,
        "quota": 1000,
        "month": None,
        "writes": 0,
    }
    stored = LimitsStore(api.client, table_names["LimitsTable"]).plan("ACME", "2026-01")
    assert (stored.rate, stored.quota) == (5, 1000)

    assert main(["limits", "set", "--company", "ACME", "--default-rate"]) == 0
    assert (_plan(capsys)["rate"], _plan_quota(api, table_names)) == (None, 1000)
    assert main(["limits", "set", "--company", "ACME", "--no-quota"]) == 0
    assert _plan(capsys)["quota"] is None
    assert main(["limits", "show", "--company", "OTHER"]) == 0
    assert _plan(capsys)["rate"] is None


def _plan_quota(api: Api, table_names: dict[str, str]) -> int | None:
    return LimitsStore(api.client, table_names["LimitsTable"]).plan("ACME", "2026-01").quota


def test_set_refuses_nothing_to_set_and_bad_numbers(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["limits", "set", "--company", "ACME"]) == 1
    assert "nothing to set" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["limits", "set", "--company", "ACME", "--rate", "-1"])
    with pytest.raises(SystemExit):
        main(["limits", "set", "--company", "ACME", "--rate", "3", "--default-rate"])
