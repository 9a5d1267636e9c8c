"""`make bench`: the figures of the issue "fast at the floor", each with its spread over repeated runs and its target.

    python -m products_api_local.bench                      # everything (a few minutes)
    python -m products_api_local.bench --load-seconds 5     # a shorter HTTP load run

Measures, in this order: built artefact size; cold import of the handler vs its third-party dependencies alone
(fresh interpreters); then on one in-memory DynamoDB Local: DynamoDB calls and billed capacity per request kind, warm
latency of the handler vs the bare boto3 calls each request needs (interleaved), one container's memory and CPU time;
then an HTTP load run on the local runner; and last the cost per million requests from those figures.
Timing and size figures are reports, not tests: the machine they run on decides them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from products_api_local.bench_cold import ColdResult, measure_cold_import
from products_api_local.bench_lambda import ROOT_ENV_VAR
from products_api_local.bench_limiter import measure_limiter, report_limiter
from products_api_local.bench_load import LoadResult, RunnerUnavailable, run_load
from products_api_local.bench_memory import MARK as MEMORY_MARK
from products_api_local.bench_stats import Spread, heading, percentile, table, verdict
from products_api_local.bench_warm import KindResult, WarmBench, seed_product
from products_api_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, find_jar
from products_api_local.template import load_template, project_root

# --- targets (the issue) -------------------------------------------------------------------------------------------
TARGET_CALLS = {
    "patch without model": 1,
    "patch with a model change": 2,
    "first request with Idempotency-Key": 3,
    "its replay": 1,
    "{}": 1,
}
TARGET_WARM_RATIO = 1.2
TARGET_COLD_RATIO = 1.1
TARGET_ARTEFACT_MB = 15.0

# --- list prices, us-east-1, as known on PRICES_AS_OF; check them before relying on the dollars ----------------------
PRICES_AS_OF = "2025-06 (DynamoDB on-demand since the 2024-11-01 price cut)"
HTTP_API_PER_MILLION = 1.00  # API Gateway HTTP API, first 300 million requests a month
LAMBDA_REQUESTS_PER_MILLION = 0.20
LAMBDA_ARM_GB_SECOND = 0.0000133334  # Lambda arm64, first 7.5 billion GB-s a month
DYNAMODB_WRU_PER_MILLION = 0.625  # on-demand write request units
DYNAMODB_RRU_PER_MILLION = 0.125  # on-demand read request units
LAMBDA_FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1769 MB, CPU in proportion to memory below it


def _template_memory_mb() -> int:
    """The memory the deployed functions get: template.yaml's Globals.Function.MemorySize."""
    return int(load_template()["Globals"]["Function"]["MemorySize"])


BUILD_DIRS = ("SharedLayer", "UpdateProductFunction")


@dataclass(frozen=True)
class Options:
    rounds: int
    iterations: int
    warm_up: int
    cold_runs: int
    cold_modes: tuple[str, ...]
    memory_requests: int
    load_clients: int
    load_seconds: float
    load_windows: int


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m products_api_local.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="repeated rounds of the warm measure (default 5)")
    parser.add_argument("--iterations", type=int, default=60, help="timed pairs per kind and round (default 60)")
    parser.add_argument("--warm-up", type=int, default=10, help="untimed pairs per kind and round (default 10)")
    parser.add_argument("--cold-runs", type=int, default=9, help="interleaved cold-import pairs per mode (default 9)")
    parser.add_argument(
        "--cold-bytecode",
        choices=["both", "as-shipped", "with-bytecode"],
        default="both",
        help="which cold-import situations to measure (default both)",
    )
    parser.add_argument("--memory-requests", type=int, default=300, help="warm requests of the memory run")
    parser.add_argument("--load-clients", type=int, default=16, help="concurrent HTTP clients (default 16)")
    parser.add_argument("--load-seconds", type=float, default=30.0, help="HTTP load duration; 0 skips it (default 30)")
    return parser


def _options(argv: Sequence[str] | None) -> Options:
    arguments = _parser().parse_args(argv)
    modes = {
        "both": ("as shipped", "with bytecode"),
        "as-shipped": ("as shipped",),
        "with-bytecode": ("with bytecode",),
    }[arguments.cold_bytecode]
    for name in ("rounds", "iterations", "cold_runs", "memory_requests", "load_clients"):
        if getattr(arguments, name) < 1:
            raise SystemExit(f"error: --{name.replace('_', '-')} must be at least 1")
    return Options(
        rounds=arguments.rounds,
        iterations=arguments.iterations,
        warm_up=max(0, arguments.warm_up),
        cold_runs=arguments.cold_runs,
        cold_modes=modes,
        memory_requests=arguments.memory_requests,
        load_clients=arguments.load_clients,
        load_seconds=max(0.0, arguments.load_seconds),
        load_windows=max(1, min(6, int(arguments.load_seconds // 5) or 1)),
    )


# --- artefact size -------------------------------------------------------------------------------------------------


def _tree_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def _newest_source(root: Path) -> float:
    sources = [*root.joinpath("layers", "shared").rglob("*"), *root.joinpath("functions").rglob("*")]
    return max(
        (path.stat().st_mtime for path in sources if path.is_file() and "__pycache__" not in path.parts), default=0
    )


def report_artefacts(root: Path) -> float | None:
    heading("Built artefacts (layer + function, unzipped, arm64)")
    build = root / ".aws-sam" / "build"
    folders = [build / name for name in BUILD_DIRS]
    missing = [str(folder.relative_to(root)) for folder in folders if not folder.is_dir()]
    if missing:
        print(f"not measured: {', '.join(missing)} missing; run `make sam-build` first, then `make bench` again")
        return None
    sizes = {folder.name: _tree_bytes(folder) for folder in folders}
    total = sum(sizes.values())
    layer_site = build / "SharedLayer" / "python"
    biggest = sorted(
        ((_tree_bytes(path) if path.is_dir() else path.stat().st_size, path.name) for path in layer_site.iterdir()),
        reverse=True,
    )[:6]
    for name, size in sizes.items():
        print(f"{name}: {size / 1e6:.2f} MB")
    print("largest in the layer: " + ", ".join(f"{name} {size / 1e6:.2f} MB" for size, name in biggest))
    built = min(folder.stat().st_mtime for folder in folders)
    if _newest_source(root) > built:
        print("warning: sources changed after this build; run `make sam-build` for a current figure")
    megabytes = total / 1e6
    print(
        f"total {megabytes:.2f} MB ({total / 2**20:.2f} MiB); the same every run (min = median = max)   "
        f"target <= {TARGET_ARTEFACT_MB:.0f} MB   {verdict(megabytes <= TARGET_ARTEFACT_MB)}"
    )
    return megabytes


# --- cold import ---------------------------------------------------------------------------------------------------


def report_cold(result: ColdResult) -> dict[str, float]:
    heading("Cold import: fresh interpreter, handler module vs only its third-party dependencies")
    print(f"{len(result.modules)} third-party modules (found by importing the handler; the baseline imports them)")
    rows = []
    medians: dict[str, float] = {}
    for mode in result.modes:
        spread = Spread.of(mode.pair_ratios)
        medians[mode.name] = spread.median
        handler = f"{statistics.median(mode.handler_cpu_s) * 1000:.0f} ({statistics.median(mode.handler_s) * 1000:.0f})"
        baseline = (
            f"{statistics.median(mode.baseline_cpu_s) * 1000:.0f} ({statistics.median(mode.baseline_s) * 1000:.0f})"
        )
        rows.append(
            [
                mode.name,
                handler,
                baseline,
                spread.format(".3f"),
                f"{statistics.median(mode.wall_pair_ratios):.3f}",
                f"<= {TARGET_COLD_RATIO}",
                verdict(spread.median <= TARGET_COLD_RATIO),
            ]
        )
    table(
        rows,
        ["bytecode", "handler CPU ms (wall)", "deps only", "CPU-time ratio per pair", "wall ratio", "target", ""],
    )
    print(
        f"{len(result.modes[0].handler_s)} interleaved pairs per mode, medians; the figure is the median of the pair\n"
        "ratios of CPU time (importing is CPU-bound; wall time also carries whatever else the machine runs).\n"
        "'as shipped': no bytecode, as the built layer ships (Lambda compiles every module at each cold start);\n"
        "'with bytecode': cached .pyc, our own import-time work stands out most."
    )
    return medians


# --- warm ----------------------------------------------------------------------------------------------------------


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
            "products_api_local.bench_memory",
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
    memory_mb = _template_memory_mb()
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


# --- load ----------------------------------------------------------------------------------------------------------


def report_load(result: LoadResult | None, skipped: str | None, options: Options) -> None:
    heading(f"HTTP load on the local runner ({options.load_clients} clients, {options.load_seconds:g} s, loopback)")
    if result is None:
        print(f"SKIPPED: {skipped}")
        return
    rates = Spread.of(result.window_rates(options.load_windows))
    print(
        f"{result.requests} requests in {result.seconds:.1f} s: {result.requests / result.seconds:.1f} requests/s "
        f"(per {result.seconds / options.load_windows:.0f} s window: {rates.format('.1f')}); "
        f"p50 {percentile(result.latencies_ms, 0.5):.1f} ms, p99 {percentile(result.latencies_ms, 0.99):.1f} ms; "
        f"errors {result.error_count}" + (f" ({result.errors})" if result.errors else "")
    )
    print("(no target: the runner serves one machine's loopback, this figure shows it holds under concurrency)")


# --- cost ----------------------------------------------------------------------------------------------------------


def report_cost(results: dict[str, KindResult]) -> None:
    memory_mb = _template_memory_mb()
    heading(f"Dollars per million PATCHes on AWS (us-east-1 list prices as of {PRICES_AS_OF}; check them)")
    print(
        f"HTTP API ${HTTP_API_PER_MILLION:.2f}/M; Lambda arm64 ${LAMBDA_REQUESTS_PER_MILLION:.2f}/M requests + "
        f"${LAMBDA_ARM_GB_SECOND}/GB-s at {memory_mb} MB, billed per 1 ms; DynamoDB on-demand "
        f"${DYNAMODB_WRU_PER_MILLION}/M WRU, ${DYNAMODB_RRU_PER_MILLION}/M RRU"
    )
    rows = []
    for name, result in results.items():
        log = result.capacity
        assert log is not None
        duration_ms = float(int(percentile(result.handler_ms, 0.5)) + 1)
        lambda_cost = LAMBDA_REQUESTS_PER_MILLION + memory_mb / 1024 * duration_ms / 1000 * LAMBDA_ARM_GB_SECOND * 1e6
        dynamodb_cost = log.write_units * DYNAMODB_WRU_PER_MILLION + log.read_units * DYNAMODB_RRU_PER_MILLION
        total = HTTP_API_PER_MILLION + lambda_cost + dynamodb_cost
        rows.append(
            [
                name,
                f"{duration_ms:.0f}",
                f"{log.read_units:g} / {log.write_units:g}",
                f"{HTTP_API_PER_MILLION:.3f}",
                f"{lambda_cost:.3f}",
                f"{dynamodb_cost:.3f}",
                f"{total:.3f}",
            ]
        )
    table(rows, ["request kind", "billed ms", "RRU / WRU", "HTTP API $", "Lambda $", "DynamoDB $", "total $/M"])
    print("billed ms: the handler's measured p50 here, rounded up to Lambda's 1 ms; in AWS the DynamoDB round trips")
    print("decide it. A container's first request (and one every CREDENTIAL_CACHE_SECONDS) adds 0.5 RRU.")


# --- main ----------------------------------------------------------------------------------------------------------


def _describe_machine() -> str:
    try:
        jar = find_jar().parent.name
    except DynamoDBLocalError:  # only a label here; the warm measure reports the real problem
        jar = "DynamoDB Local not found"
    return (
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}; {jar}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = _options(argv)
    root = project_root()
    started = time.monotonic()
    print(f"products-api benchmark: {_describe_machine()}")
    print(
        f"warm: {options.rounds} rounds x {options.iterations} pairs per kind; cold: {options.cold_runs} pairs per "
        f"bytecode mode; load: {options.load_clients} clients x {options.load_seconds:g} s"
    )
    summary: list[list[str]] = []

    megabytes = report_artefacts(root)
    summary.append(
        [
            "artefacts (MB)",
            "n/a" if megabytes is None else f"{megabytes:.2f}",
            f"<= {TARGET_ARTEFACT_MB:.0f}",
            verdict(None if megabytes is None else megabytes <= TARGET_ARTEFACT_MB),
        ]
    )

    with DynamoDBLocal() as server:
        bench = WarmBench(server.endpoint_url)
        # the cold runs read the same environment as the function (the JVM is idle meanwhile)
        cold = measure_cold_import(bench.environment, options.cold_runs, options.cold_modes)
        cold_medians = report_cold(cold)
        for mode, ratio in cold_medians.items():
            summary.append(
                [
                    f"cold import CPU ratio ({mode})",
                    f"{ratio:.3f}",
                    f"<= {TARGET_COLD_RATIO}",
                    verdict(ratio <= TARGET_COLD_RATIO),
                ]
            )

        results: dict[str, KindResult] = {}
        bench.calls_and_capacity(results)
        calls_met = report_calls(results)
        summary.append(
            [
                "DynamoDB calls (1/2/3/1/1)",
                "/".join(str(len(result.handler_calls)) for result in results.values()),
                "1/2/3/1/1",
                verdict(calls_met),
            ]
        )
        report_capacity(results)
        for number in range(options.rounds):
            print(f"warm round {number + 1}/{options.rounds} ...", flush=True)
            bench.run_round(options.iterations, options.warm_up, results)
        warm_met = report_warm(results, options)
        worst = max(Spread.of(result.round_ratios).median for result in results.values())
        summary.append(["warm p50 ratio (worst kind)", f"{worst:.3f}", f"<= {TARGET_WARM_RATIO}", verdict(warm_met)])
        report_memory(measure_memory(bench, options.memory_requests))
        limiter = measure_limiter(bench, options.iterations)
        report_limiter(limiter)
        summary.append(
            [
                "write rate limiter (calls, p50 ms added)",
                f"+{len(limiter.calls_on) - len(limiter.calls_off)}, "
                f"{percentile(limiter.on_ms, 0.5) - percentile(limiter.off_ms, 0.5):+.2f}",
                "+1 call",
                verdict(len(limiter.calls_on) - len(limiter.calls_off) == 1),
            ]
        )

    load: LoadResult | None = None
    skipped: str | None = "--load-seconds 0"
    if options.load_seconds > 0:
        try:
            load = run_load(options.load_clients, options.load_seconds)
            skipped = None
        except RunnerUnavailable as exc:
            skipped = str(exc)
    report_load(load, skipped, options)
    report_cost(results)

    heading("Summary")
    table(summary, ["measure", "figure", "target", ""])
    print(f"\n(bench took {time.monotonic() - started:.0f} s; timing and size figures are reports, not tests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
