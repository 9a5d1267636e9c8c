"""The targets of the issue "cold start and warm overhead", each measured here and printed with PASS or MISS.

- Warm: the handler's own Python per plain PATCH, on top of the bare UpdateItem, at most 1.2 ms. Measured as CPU
  time of this thread (time.thread_time), handler and bare call interleaved on one DynamoDB Local: the JVM's work is
  another process and waiting costs no CPU, so what is left is Python, and a loaded machine moves it far less than
  wall time. (The ratio to the bare calls of every route is bench.report_warm's table.)
- Cold: import CPU of the handler as shipped (bytecode, no X-Ray with tracing off, no language table) at most 0.6x
  what it was before (no bytecode; aws-xray-sdk and pydantic-extra-types' language table imported), both measured
  here, pairs interleaved in fresh interpreters.
- Artefacts: layer + function at most ARTEFACT_BUDGET_MB unzipped (docs/benchmarks.md says why that budget).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from products_api_local.bench.cold import _pair, _run, _timed
from products_api_local.bench.stats import heading, table, verdict
from products_api_local.functions.context import LambdaContext, begin_invocation

if TYPE_CHECKING:
    from products_api_local.bench.warm import WarmBench

WARM_OVERHEAD_TARGET_MS = 1.2
COLD_RATIO_TARGET = 0.6
ARTEFACT_BUDGET_MB = 30.0
# What the handler imported before this issue, on top of what it imports now: X-Ray (a Tracer was always built) and
# pycountry's language table (pydantic-extra-types' LanguageAlpha2).
FORMER_EXTRA_IMPORTS = ("aws_xray_sdk.core", "pydantic_extra_types.language_code")


@dataclass(frozen=True)
class WarmOverhead:
    handler_cpu_ms: float
    bare_cpu_ms: float
    requests: int

    @property
    def overhead_ms(self) -> float:
        return self.handler_cpu_ms - self.bare_cpu_ms


def measure_warm_overhead(bench: WarmBench, requests: int) -> WarmOverhead:
    """Median thread CPU per plain PATCH (the bench's first kind) and per bare call, interleaved, order alternating."""
    kind = bench.kinds[0]
    handler: list[int] = []
    bare: list[int] = []

    def run_handler(i: int) -> None:
        event, context = kind.event(i), LambdaContext(log_stream_name="bench")
        begin_invocation()
        started = time.thread_time_ns()
        result = bench.lambda_handler.direct(event, context)
        handler.append(time.thread_time_ns() - started)
        if result.get("statusCode") != 200:
            raise AssertionError(f"the handler answered {result.get('statusCode')}: {result.get('body')}")

    def run_bare(i: int) -> None:
        started = time.thread_time_ns()
        kind.bare(i)
        bare.append(time.thread_time_ns() - started)

    with bench.lambda_handler.quietly():
        for i in range(requests):
            first, second = (run_handler, run_bare) if i % 2 == 0 else (run_bare, run_handler)
            first(i)
            second(i)
    # one sample is 1-4 ms of CPU: thread_time's resolution is far below that; medians ignore a preempted outlier
    return WarmOverhead(statistics.median(handler) / 1e6, statistics.median(bare) / 1e6, requests)


@dataclass(frozen=True)
class ColdComparison:
    shipped_cpu_s: list[float]
    former_cpu_s: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.shipped_cpu_s) / statistics.median(self.former_cpu_s)


def measure_cold_against_former(environment: dict[str, str], runs: int) -> ColdComparison:
    """`runs` interleaved pairs: as shipped now (cached bytecode) vs as shipped before (sources only, plus the former
    extra imports). Both in fresh interpreters with a private pycache (bench_cold's runner).
    """
    env = {**os.environ, **environment}
    shipped_code = _timed("import update_product")
    former_code = _timed("\n".join(f"import {name}" for name in FORMER_EXTRA_IMPORTS) + "\nimport update_product")
    shipped: list[float] = []
    former: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
        cache = Path(pycache)
        _run(shipped_code, env, cache, write_bytecode=True)  # the bytecode the build ships
        for run in range(runs):
            for side in ("shipped", "former") if run % 2 == 0 else ("former", "shipped"):
                if side == "shipped":
                    shipped.append(_pair(_run(shipped_code, env, cache, write_bytecode=False))[1])
                else:
                    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as empty:
                        former.append(_pair(_run(former_code, env, Path(empty), write_bytecode=False))[1])
    return ColdComparison(shipped, former)


def report_targets(warm: WarmOverhead, cold: ColdComparison, artefacts_mb: float | None) -> list[list[str]]:
    """Prints the three figures with their targets; returns them as summary rows."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    heading(f"Issue targets: cold start and warm overhead (load average {load})")
    rows = [
        [
            "warm Python per plain PATCH over the bare call (CPU ms, median)",
            f"{warm.overhead_ms:.3f} ({warm.handler_cpu_ms:.3f} - {warm.bare_cpu_ms:.3f})",
            f"<= {WARM_OVERHEAD_TARGET_MS}",
            verdict(warm.overhead_ms <= WARM_OVERHEAD_TARGET_MS),
        ],
        [
            "cold import CPU as shipped / as shipped before (median)",
            f"{cold.ratio:.3f} ({statistics.median(cold.shipped_cpu_s) * 1000:.0f} / "
            f"{statistics.median(cold.former_cpu_s) * 1000:.0f} ms)",
            f"<= {COLD_RATIO_TARGET}",
            verdict(cold.ratio <= COLD_RATIO_TARGET),
        ],
        [
            "artefacts, layer + function, unzipped (MB)",
            "n/a (no build)" if artefacts_mb is None else f"{artefacts_mb:.2f}",
            f"<= {ARTEFACT_BUDGET_MB:.0f}",
            verdict(None if artefacts_mb is None else artefacts_mb <= ARTEFACT_BUDGET_MB),
        ],
    ]
    table(rows, ["target", "figure", "target", ""])
    print(
        f"warm: {warm.requests} interleaved pairs, thread CPU time; cold: {len(cold.shipped_cpu_s)} interleaved pairs "
        "of fresh interpreters, process CPU time.\nThe Python here is this virtualenv's; Lambda's 3.13 runs the same "
        "code, from the bytecode the build compiles."
    )
    for row in rows:
        print(f"{row[3]}  {row[0]}: {row[1]} (target {row[2]})")
    return rows
