"""What the runner prints once it serves: where the API is, the demo data, the routes and containers, how to try it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from products_api_local.apigateway.routes import RouteTable
from products_api_local.docs_site import docs_url
from products_api_local.dynamodb_local import DynamoDBLocal
from products_api_local.functions.containers import FunctionContainers
from products_api_local.template.model import LocalTemplate

if TYPE_CHECKING:
    from products_api_local.demo import Demo
    from products_api_local.s3_local import LocalS3


def url_host(host: str) -> str:
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - listening everywhere: clients on this machine use loopback
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def print_banner(
    host: str,
    port: int,
    database: DynamoDBLocal,
    data_dir: Path | None,
    demo: Demo,
    seeded: bool,
    routes: RouteTable,
    template: LocalTemplate,
    pools: Mapping[str, FunctionContainers],
    dead_letter_file: Path,
    startup_seconds: float,
    local_s3: LocalS3 | None = None,
) -> None:
    specs = template.functions
    base_url = f"http://{url_host(host)}:{port}"
    storage = (
        f"{data_dir} (kept across restarts; delete it to start over)"
        if data_dir is not None
        else "in memory (gone when the runner stops)"
    )
    lines = [
        "",
        f"Products API running at {base_url} (started in {startup_seconds:.1f} s)",
        f"  DynamoDB Local: {database.endpoint_url}",
        f"  Local S3:       {local_s3.endpoint_url if local_s3 is not None else '-'} (moto's server)",
        f"  Image URLs:     {(local_s3.images_base_url or '-') if local_s3 is not None else '-'}/images/...",
        f"  Data:           {storage}",
        f"  Demo data:      {'seeded now' if seeded else 'found from an earlier start'} (company {demo.company})",
        f"  Demo product:   {demo.product_id}",
        f"  Demo API key:   {demo.token}",
        f"  API reference:  {docs_url(base_url)} (try it in a browser: Authorize with the demo API key)",
        "  Routes:",
    ]
    for route in routes.routes:
        spec = specs[route.function]
        lines.append(f"    {route.route_key} -> {route.function} ({spec.handler}, timeout {spec.timeout_seconds} s)")
    lines.append("  Containers:     per function, one per concurrent invocation (cold starts are shown), at most")
    lines += [f"    {name}: {pool.concurrency}" for name, pool in pools.items()]
    if template.stream_sources:
        lines.append("  Streams (events published to EventBridge are printed here, not delivered):")
    for source in template.stream_sources:
        lines.append(f"    {source.table} -> {source.function} ({specs[source.function].handler})")
    if template.stream_sources:
        lines.append(f"  Dead letters:   {dead_letter_file}")
    from products_api_local.demo import curl_example, history_curl_example

    lines += [
        "",
        "Try it:",
        "",
        curl_example(base_url, demo),
        "",
        "and read its history:",
        "",
        history_curl_example(base_url, demo),
        "",
        "Press Ctrl-C to stop (the API, the functions, the local S3, then DynamoDB Local).",
    ]
    print("\n".join(lines), flush=True)
