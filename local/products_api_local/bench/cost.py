"""What a request costs on AWS, from the measured figures and list prices."""

from __future__ import annotations

from products_api_local.bench.stats import heading, percentile, table
from products_api_local.bench.warm import KindResult
from products_api_local.template.document import load_template

# --- list prices, us-east-1, as known on PRICES_AS_OF; check them before relying on the dollars ----------------------
PRICES_AS_OF = "2025-06 (DynamoDB on-demand since the 2024-11-01 price cut)"
HTTP_API_PER_MILLION = 1.00  # API Gateway HTTP API, first 300 million requests a month
LAMBDA_REQUESTS_PER_MILLION = 0.20
LAMBDA_ARM_GB_SECOND = 0.0000133334  # Lambda arm64, first 7.5 billion GB-s a month
DYNAMODB_WRU_PER_MILLION = 0.625  # on-demand write request units
DYNAMODB_RRU_PER_MILLION = 0.125  # on-demand read request units
LAMBDA_FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1769 MB, CPU in proportion to memory below it


def template_memory_mb() -> int:
    """The memory the deployed functions get: template.yaml's Globals.Function.MemorySize."""
    return int(load_template()["Globals"]["Function"]["MemorySize"])


def report_cost(results: dict[str, KindResult]) -> None:
    memory_mb = template_memory_mb()
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
