"""The write rate and the meter over HTTP on `make serve`'s runner (template parameters as deployed: 100 writes a
minute): rapid writes by one company meet a 429 with Retry-After and RateLimit, and GET /api/v1/usage then counts
exactly the writes that were applied (the stream function meters them; the refused ones and `{}` count nothing).
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from local_runner import running

pytestmark = pytest.mark.dynamodb_local
# Fixed one-minute windows: 2 x 100 + 1 writes sent within a minute meet a refusal whatever window edge they straddle.
MOST_WRITES = 201
METER_TIMEOUT = 30.0


def test_rapid_writes_meet_a_429_and_usage_counts_the_applied_ones() -> None:
    with running("--in-memory") as (_, banner):
        auth = {"Authorization": f"Bearer {banner.token}"}
        url = f"{banner.base_url}/api/v1/products/{banner.product_id}"
        with requests.Session() as session:
            applied = 0
            refused: requests.Response | None = None
            for number in range(MOST_WRITES):
                answer = session.patch(url, headers=auth, json={"name": f"Rapid write {number}"}, timeout=30)
                assert answer.status_code in (200, 429), answer.text
                assert re.fullmatch(r'"writes";r=\d+;t=\d+', answer.headers["RateLimit"])
                assert answer.headers["RateLimit-Policy"] == '"writes";q=100;w=60'
                if answer.status_code == 429:
                    refused = answer
                    break
                applied += 1
            assert refused is not None, f"{MOST_WRITES} writes and no 429"
            assert refused.json()["code"] == "rate_limited"
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
            assert re.fullmatch(r'"writes";r=0;t=\d+', refused.headers["RateLimit"])
            assert applied >= 100
            # `{}` writes nothing: not limited, not metered
            assert session.patch(url, headers=auth, json={}, timeout=30).status_code == 200

            usage_url = f"{banner.base_url}/api/v1/usage"
            deadline = time.monotonic() + METER_TIMEOUT
            usage = session.get(usage_url, headers=auth, timeout=30).json()
            while usage["writes"] < applied and time.monotonic() < deadline:
                time.sleep(0.5)  # the stream function meters asynchronously, as on AWS
                usage = session.get(usage_url, headers=auth, timeout=30).json()
            assert usage["writes"] == applied
            assert usage["rate"] == {"limit": 100, "windowSeconds": 60}
            assert usage["quota"] is None
