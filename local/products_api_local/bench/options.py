"""`make bench`'s command line: what to measure and for how long."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

DESCRIPTION = '`make bench`: the figures of the issue "fast at the floor", each with its spread and its target.'


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


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m products_api_local.bench", description=DESCRIPTION)
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


def options_from(argv: Sequence[str] | None) -> Options:
    arguments = parser().parse_args(argv)
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
