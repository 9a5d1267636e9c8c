"""`make bench`, the write rate's cost: DynamoDB calls and warm latency per write with the limiter on and off.

On the warm bench's DynamoDB Local and handler: the same PATCH (without `model`) alternately through a runtime with
the limiter off (WRITE_RATE_PER_MINUTE=0, as the rest of the bench runs) and one with it on (a rate high enough never
to refuse), interleaved so both see the same machine; and the limiter's conditional UpdateItem timed alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from products_api.products.runtime import Runtime

from products_api_local.bench.bare_calls import COMPANY, IMAGE_URLS
from products_api_local.bench.stats import heading, percentile, table
from products_api_local.bench.warm import HANDLER_PRODUCT, WarmBench, counting
from products_api_local.template.document import load_template
from products_api_local.template.tables import create_tables

# never reached within a bench run: every write is admitted, so only the cost is measured
BENCH_RATE = 1_000_000
LIMITS_TABLE = "bench-LimitsTable"


@dataclass(frozen=True)
class LimiterFigures:
    calls_off: list[str]
    calls_on: list[str]
    off_ms: list[float]
    on_ms: list[float]
    admit_ms: list[float]


def measure_limiter(bench: WarmBench, iterations: int) -> LimiterFigures:
    create_tables(bench.client, {"LimitsTable": LIMITS_TABLE}, load_template())
    limited_settings = bench.settings.model_copy(
        update={"write_rate_per_minute": BENCH_RATE, "limits_table_name": LIMITS_TABLE}
    )
    runtimes = {"off": bench.runtime, "on": Runtime.build(limited_settings, bench.client)}

    def patch(which: str, number: int) -> float:
        bench.handler.__dict__["get_runtime"] = lambda: runtimes[which]
        event = bench.events.patch(HANDLER_PRODUCT, {"name": f"Limiter bench {number % 10}", "imageUrls": IMAGE_URLS})
        started = time.perf_counter_ns()
        bench.invoke(event)
        return (time.perf_counter_ns() - started) / 1e6

    try:
        calls: dict[str, list[str]] = {}
        for which in ("off", "on"):
            patch(which, 0)  # warm: the credential cached in this runtime
            with counting(bench.client) as made:
                patch(which, 1)
            calls[which] = made
        off_ms: list[float] = []
        on_ms: list[float] = []
        for number in range(iterations):
            order = ("off", "on") if number % 2 == 0 else ("on", "off")
            for which in order:
                (off_ms if which == "off" else on_ms).append(patch(which, number))
        limiter = runtimes["on"].limiter
        admit_ms = []
        for _ in range(iterations):
            started = time.perf_counter_ns()
            limiter.admit(COMPANY)
            admit_ms.append((time.perf_counter_ns() - started) / 1e6)
    finally:
        bench.handler.__dict__["get_runtime"] = lambda: bench.runtime
    return LimiterFigures(calls["off"], calls["on"], off_ms, on_ms, admit_ms)


def report_limiter(figures: LimiterFigures) -> None:
    heading("Write rate limiter: cost per write (PATCH without model, credential cached, same DynamoDB Local)")
    rows = [
        ["limiter off (rate 0)", str(len(figures.calls_off)), " + ".join(figures.calls_off)]
        + [f"{percentile(figures.off_ms, q):.2f}" for q in (0.5, 0.9)],
        ["limiter on", str(len(figures.calls_on)), " + ".join(figures.calls_on)]
        + [f"{percentile(figures.on_ms, q):.2f}" for q in (0.5, 0.9)],
        ["the limiter's call alone", "1", "UpdateItem"]
        + [f"{percentile(figures.admit_ms, q):.2f}" for q in (0.5, 0.9)],
    ]
    table(rows, ["", "calls", "operations", "p50 ms", "p90 ms"])
    added = percentile(figures.on_ms, 0.5) - percentile(figures.off_ms, 0.5)
    print(
        f"The limiter adds {len(figures.calls_on) - len(figures.calls_off)} DynamoDB call (one conditional UpdateItem "
        f"on the company's item, ~1 WCU) and {added:+.2f} ms at p50 per write here; on AWS, one more round trip "
        "(a few ms in-region). `{}` and rate 0 cost nothing."
    )
