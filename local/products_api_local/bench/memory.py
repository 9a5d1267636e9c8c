"""One container's life in a fresh interpreter: import, first request, then warm requests; memory and CPU time.

Run by the benchmark as `python -m products_api_local.bench.memory <token> <product id> <requests>` with the function's
environment already pointing at DynamoDB Local. It goes through the real `get_runtime()` (no injected client), as a
Lambda container does, and prints one JSON line. CPU time is what sizing the function needs: Lambda gives a function
CPU in proportion to its memory, so the CPU-bound share of a request stretches as memory shrinks, while the time spent
waiting for DynamoDB does not.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import uuid
from typing import Any

from products_api_local.bench.handler import Events, QuietHandler, handler_module
from products_api_local.functions.context import LambdaContext, begin_invocation

MARK = "BENCH-MEMORY "


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    token, product_id, requests = argv[0], argv[1], int(argv[2])
    rss_start = _rss_mb()
    cpu, wall = time.process_time(), time.perf_counter()
    lambda_handler = QuietHandler(handler_module())
    import_cpu, import_wall = time.process_time() - cpu, time.perf_counter() - wall
    rss_import = _rss_mb()
    events = Events(token)

    def invoke(body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        begin_invocation()
        result = lambda_handler(events.patch(product_id, body, headers), LambdaContext())
        if result["statusCode"] != 200:
            raise SystemExit(f"unexpected {result['statusCode']}: {result['body']}")

    cpu, wall = time.process_time(), time.perf_counter()
    invoke({"name": "First request"})
    first_cpu, first_wall = time.process_time() - cpu, time.perf_counter() - wall

    # the request mix of a busy product: mostly plain patches, some with a key, some empty
    kinds: list[tuple[dict[str, Any], str | None]] = [
        ({"name": "Warm request", "imageUrls": ["https://cdn.example.com/a.jpg"]}, None),
        ({"name": "Warm request 2"}, "key"),
        ({}, None),
    ]
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(requests):
        body, key = kinds[i % len(kinds)]
        invoke(body, {"Idempotency-Key": str(uuid.uuid4())} if key else None)
    warm_cpu, warm_wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        MARK
        + json.dumps(
            {
                "rss_start_mb": rss_start,
                "rss_after_import_mb": rss_import,
                "rss_peak_mb": _rss_mb(),
                "import_cpu_s": import_cpu,
                "import_wall_s": import_wall,
                "first_request_cpu_s": first_cpu,
                "first_request_wall_s": first_wall,
                "warm_requests": requests,
                "warm_cpu_ms_per_request": warm_cpu * 1000 / requests,
                "warm_wall_ms_per_request": warm_wall * 1000 / requests,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
