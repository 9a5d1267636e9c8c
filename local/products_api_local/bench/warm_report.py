"""The warm figures of `make bench`: DynamoDB calls and billed capacity per request kind, the handler's latency
against the bare boto3 calls each request needs, and one container's memory and CPU time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from products_api_local.bench.cost import LAMBDA_ARM_GB_SECOND, LAMBDA_FULL_VCPU_MB, template_memory_mb
from products_api_local.bench.handler import ROOT_ENV_VAR
from products_api_local.bench.memory import MARK as MEMORY_MARK
from products_api_local.bench.options import Options
from products_api_local.bench.stats import Spread, heading, percentile, table, verdict
from products_api_local.bench.warm import KindResult, WarmBench, seed_product
from products_api_local.template.document import project_root

TARGET_CALLS = {
    "patch without model": 1,
    "patch with a model change": 2,
    "first request with Idempotency-Key": 3,
    "its replay": 1,
    "{}": 1,
}
TARGET_WARM_RATIO = 1.2


def report_calls(results: dict[str, KindResult]) -> bool:
    heading("DynamoDB calls per request (credential already cached)")
    rows = []
    met = True
    for name, result in results.items():
        target = TARGET_CALLS[name]
        ok = len(result.handler_calls) == target
        met = met and ok
        rows.append([name, str(len(result.handler_calls)), " + ".join(result.handler_calls), str(target), verdict(ok)])
    table(rows, ["request kind", "calls", "operations", "target", ""])
    return met


def report_capacity(results: dict[str, KindResult]) -> None:
    heading("Capacity per request, billed by AWS's rules (DynamoDB Local's own ReturnConsumedCapacity alongside)")
    rows = []
    for name, result in results.items():
        log = result.capacity
        assert log is not None
        detail = ", ".join(
            f"{call.operation}{' (condition failed)' if call.failed_condition else ''} "
            f"{call.read_units or call.write_units:g}"
            for call in log.calls
        )
        rows.append([name, f"{log.read_units:g}", f"{log.write_units:g}", f"{log.reported:g}", detail])
    table(rows, ["request kind", "RRU", "WRU", "DDB Local says", "per call"])
    print(
        "DynamoDB Local reports nothing for a failed conditional write and 2.0 for a 3-item transaction; AWS bills a\n"
        "failed condition like the write (1 WRU per KB) and a transaction 2 WRU per item and KB."
    )


def report_footprint(results: dict[str, KindResult]) -> None:
    heading("Code one request runs (distinct Python source lines, counted with sys.settrace; steady from run to run)")
    rows = []
    for name, result in results.items():
        counted = result.footprint
        assert counted is not None
        rows.append([name, str(counted.handler_lines), str(counted.bare_lines), str(counted.handler_only)])
    table(rows, ["request kind", "handler", "bare calls", "handler only"])
    print(
        "'handler only': lines the bare calls do not run. Each runs once per request with cold caches here, so the\n"
        "warm overhead below follows this count more than any hot spot (docs/benchmarks.md, fifth round)."
    )


def report_warm(results: dict[str, KindResult], options: Options) -> bool:
    heading("Warm latency in process: handler vs the bare boto3 calls the request needs (ms, same DynamoDB Local)")
    rows = []
    met = True
    for name, result in results.items():
        spread = Spread.of(result.round_ratios)
        ok = spread.median <= TARGET_WARM_RATIO
        met = met and ok
        rows.append(
            [
                name,
                f"{percentile(result.handler_ms, 0.5):.2f}",
                f"{percentile(result.handler_ms, 0.99):.2f}",
                f"{percentile(result.bare_ms, 0.5):.2f}",
                f"{percentile(result.bare_ms, 0.99):.2f}",
                f"{percentile(result.handler_ms, 0.5) - percentile(result.bare_ms, 0.5):.2f}",
                spread.format(".3f"),
                f"<= {TARGET_WARM_RATIO}",
                verdict(ok),
            ]
        )
    table(
        rows,
        ["request kind", "handler p50", "p99", "bare p50", "p99", "overhead p50", "p50 ratio per round", "target", ""],
    )
    print(
        f"{options.rounds} rounds x {options.iterations} interleaved pairs per kind (after {options.warm_up} untimed); "
        "p50/p99 over all rounds"
    )
    return met


@dataclass(frozen=True)
class MemoryFigures:
    rss_after_import_mb: float
    rss_peak_mb: float
    import_cpu_s: float
    import_wall_s: float
    first_request_wall_s: float
    warm_cpu_ms: float
    warm_wall_ms: float


def measure_memory(bench: WarmBench, requests: int) -> MemoryFigures:
    """A fresh interpreter as one container: the real get_runtime(), its own client, the bench's DynamoDB Local."""
    seed_product(bench.products, "cccccccccccccccccccccc03", "BENCH-MEMORY")
    env = {**os.environ, **bench.environment, ROOT_ENV_VAR: str(project_root())}
    completed = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "products_api_local.bench.memory",
            bench.token,
            "cccccccccccccccccccccc03",
            str(requests),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(MEMORY_MARK)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"memory run failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    data = json.loads(lines[-1][len(MEMORY_MARK) :])
    return MemoryFigures(
        rss_after_import_mb=data["rss_after_import_mb"],
        rss_peak_mb=data["rss_peak_mb"],
        import_cpu_s=data["import_cpu_s"],
        import_wall_s=data["import_wall_s"],
        first_request_wall_s=data["first_request_wall_s"],
        warm_cpu_ms=data["warm_cpu_ms_per_request"],
        warm_wall_ms=data["warm_wall_ms_per_request"],
    )


def report_memory(figures: MemoryFigures) -> None:
    memory_mb = template_memory_mb()
    heading(f"One container in a fresh interpreter: memory and CPU (MemorySize is {memory_mb} MB)")
    print(
        f"peak RSS {figures.rss_peak_mb:.0f} MB (after import {figures.rss_after_import_mb:.0f} MB); "
        f"import {figures.import_wall_s * 1000:.0f} ms wall / {figures.import_cpu_s * 1000:.0f} ms CPU; "
        f"first request (runtime build, credential read) {figures.first_request_wall_s * 1000:.0f} ms; "
        f"warm request {figures.warm_wall_ms:.2f} ms wall / {figures.warm_cpu_ms:.2f} ms CPU"
    )
    print("Lambda gives CPU in proportion to memory (one vCPU at 1769 MB). If a Lambda vCPU ran like this machine's")
    print("core, the CPU-bound parts would take (DynamoDB waits come on top and do not scale):")
    rows = []
    for memory in (128, 256, 512, 1024, LAMBDA_FULL_VCPU_MB):
        stretch = max(1.0, LAMBDA_FULL_VCPU_MB / memory)
        cpu_ms = figures.warm_cpu_ms * stretch
        cost = memory / 1024 * (cpu_ms / 1000) * LAMBDA_ARM_GB_SECOND * 1e6
        rows.append(
            [
                f"{memory} MB",
                f"{figures.import_cpu_s * stretch:.2f}",
                f"{cpu_ms:.1f}",
                f"${cost:.4f}",
                f"${memory / 1024 * 0.001 * LAMBDA_ARM_GB_SECOND * 1e6:.5f}",
                "too small" if figures.rss_peak_mb > memory * 0.8 else "fits",
            ]
        )
    table(rows, ["memory", "import s", "warm CPU ms", "CPU $/M", "$/M per ms of waiting", "peak RSS"])
