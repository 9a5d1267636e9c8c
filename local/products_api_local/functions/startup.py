"""The containers of every function of the template, started with the runner: one of each (or --provisioned), warm,
so a handler that cannot be imported stops the start with its traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from products_api_local.functions.containers import FunctionContainers
from products_api_local.functions.worker import ContainerSpec
from products_api_local.template.functions import FunctionSpec
from products_api_local.template.model import LocalTemplate

# The nice value added to the containers of functions fed only by a stream: on a laptop's few cores the API comes
# first, as on Lambda, where the event source's invocations never take CPU from the API's.
BACKGROUND_NICENESS = 5


class ContainerStartError(RuntimeError):
    """A function's first container did not start: the message holds each failure."""


def container_environment(spec: FunctionSpec, endpoints: Mapping[str, str]) -> dict[str, str]:
    """What a container of the function sees: the runner's environment (isolated from AWS), the function's own
    variables, and the local endpoints."""
    environment = dict(os.environ)
    # The console shows the function's one JSON log line per request; its EMF metric blob (a second JSON line per
    # request, for CloudWatch) is left out, and there is no X-Ray daemon to trace to. A variable set in the shell
    # wins: POWERTOOLS_METRICS_DISABLED=false make serve prints the metrics too.
    for variable in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_TRACE_DISABLED"):
        environment.setdefault(variable, "true")
    environment.update(spec.environment)
    environment.update(endpoints)
    return environment


def start_containers(
    template: LocalTemplate,
    endpoints: Mapping[str, str],
    concurrency: int,
    log: Callable[[str], None],
    provisioned: int = 1,
) -> dict[str, FunctionContainers]:
    """The containers of every function, `provisioned` of each (at most its cap) started in parallel and kept warm,
    as Lambda's provisioned concurrency keeps them: a burst then finds them initialised."""
    routed = {route.function for route in template.routes}
    background = {source.function for source in template.stream_sources} - routed
    pools = {
        logical_id: FunctionContainers(
            ContainerSpec(
                function_name=logical_id,
                code_dir=spec.code_dir,
                handler=spec.handler,
                memory_mb=spec.memory_mb,
                region=template.region,
                environment=container_environment(spec, endpoints),
                niceness=BACKGROUND_NICENESS if logical_id in background else 0,
            ),
            timeout_seconds=spec.timeout_seconds,
            concurrency=spec.reserved_concurrency or concurrency,
        )
        for logical_id, spec in template.functions.items()
    }
    starts = [
        (logical_id, pool) for logical_id, pool in pools.items() for _ in range(min(provisioned, pool.concurrency))
    ]
    with ThreadPoolExecutor(max_workers=len(starts) or 1) as executor:
        started = [(logical_id, executor.submit(pool.warm_up)) for logical_id, pool in starts]
    failures = []
    for logical_id, future in started:
        try:
            init_seconds = future.result()
        except RuntimeError as exc:
            failures.append(f"{logical_id}: cannot import its handler:\n{exc}")
        else:
            log(f"{logical_id}: container started (init {init_seconds * 1000:.0f} ms)")
    if failures:
        for pool in pools.values():
            pool.stop()
        # One failure per function is enough: its other containers fail alike.
        raise ContainerStartError("\n".join(dict.fromkeys(failures)))
    return pools
