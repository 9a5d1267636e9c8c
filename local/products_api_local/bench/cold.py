"""Cold import: a fresh interpreter importing the handler module vs one importing only its third-party dependencies.

The dependency list is not written down: a fresh interpreter imports the handler and reports every module it loaded
from site-packages, and the baseline imports exactly those, in the same order. What differs is then only our own code
(products_api and the handler) and the work it does at import time.

Two bytecode situations are measured, because they differ by a factor and the built layer ships no bytecode (the
layer's Makefile removes __pycache__, and Lambda cannot write it to the read-only /opt, so a cold start compiles every
module from source): "as shipped" (every module compiled from source on every start) and "with bytecode" (cached
.pyc, what a layer shipping Python 3.13 bytecode would give). Both use a private -X pycache_prefix, so the bench never
writes into the virtualenv or the repository.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from products_api_local.template.document import project_root

_MARK = "BENCH-COLD "


def _handler_paths() -> list[str]:
    root = project_root()
    # Lambda's order: the function's folder (/var/task) before the layer (/opt/python)
    return [str(root / "functions" / "update_product"), str(root / "layers" / "shared")]


def _prelude() -> str:
    return f"import sys, time\nsys.path[:0] = {_handler_paths()!r}\n"


_DISCOVER = """
import sysconfig, site, json
before = set(sys.modules)
import update_product
roots = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
third_party = []
for name, module in list(sys.modules.items()):
    origin = getattr(module, "__file__", None) or ""
    if name in before or name.split(".")[0] in {"products_api", "update_product"}:
        continue
    if any(origin.startswith(root + "/") for root in roots):
        third_party.append(name)
print(MARK + json.dumps(third_party))
"""


@dataclass
class ColdMode:
    """Seconds per run, wall and CPU. Importing is CPU-bound (files come from the page cache), so CPU time is the
    figure that does not move with whatever else the machine runs; wall time is printed alongside.
    """

    name: str
    handler_s: list[float] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)
    handler_cpu_s: list[float] = field(default_factory=list)
    baseline_cpu_s: list[float] = field(default_factory=list)

    @property
    def pair_ratios(self) -> list[float]:
        return [h / b for h, b in zip(self.handler_cpu_s, self.baseline_cpu_s, strict=True)]

    @property
    def wall_pair_ratios(self) -> list[float]:
        return [h / b for h, b in zip(self.handler_s, self.baseline_s, strict=True)]

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.pair_ratios)


@dataclass
class ColdResult:
    modules: list[str]
    modes: list[ColdMode]


def _run(code: str, environment: dict[str, str], pycache: Path, *, write_bytecode: bool) -> str:
    env = dict(environment)
    if write_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    completed = subprocess.run(  # noqa: S603 - this interpreter, code written here
        [sys.executable, "-X", f"pycache_prefix={pycache}", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"cold-import run failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    for line in completed.stdout.splitlines():
        if line.startswith(_MARK):
            return line[len(_MARK) :]
    raise RuntimeError(f"cold-import run printed no result:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")


def third_party_modules(environment: dict[str, str]) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
        found: list[str] = json.loads(
            _run(_prelude() + _DISCOVER.replace("MARK", repr(_MARK)), environment, Path(pycache), write_bytecode=False)
        )
    return found


def _timed(statements: str) -> str:
    return (
        _prelude()
        + "started, cpu = time.perf_counter(), time.process_time()\n"
        + statements
        + f"\nprint({_MARK!r} + repr((time.perf_counter() - started, time.process_time() - cpu)))\n"
    )


def _pair(text: str) -> tuple[float, float]:
    wall, cpu = text.strip("()").split(",")
    return float(wall), float(cpu)


def measure_cold_import(environment: dict[str, str], runs: int, modes: tuple[str, ...]) -> ColdResult:
    """`runs` interleaved pairs (handler, baseline; order alternating) per bytecode mode."""
    env = {**os.environ, **environment}
    modules = third_party_modules(env)
    handler_code = _timed("import update_product")
    baseline_code = _timed("\n".join(f"import {name}" for name in modules))
    results: list[ColdMode] = []
    for mode in modes:
        result = ColdMode(mode)
        with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
            cache = Path(pycache)
            cached = mode == "with bytecode"
            if cached:
                # fill the private cache once, for both sides
                _run(handler_code, env, cache, write_bytecode=True)
                _run(baseline_code, env, cache, write_bytecode=True)
            for run in range(runs):
                order = [
                    (handler_code, result.handler_s, result.handler_cpu_s),
                    (baseline_code, result.baseline_s, result.baseline_cpu_s),
                ]
                for code, wall_sink, cpu_sink in order if run % 2 == 0 else reversed(order):
                    # as shipped: an empty cache each time, so every module is compiled from source
                    if cached:
                        wall, cpu = _pair(_run(code, env, cache, write_bytecode=False))
                    else:
                        with tempfile.TemporaryDirectory(prefix="bench-pycache-") as empty:
                            wall, cpu = _pair(_run(code, env, Path(empty), write_bytecode=False))
                    wall_sink.append(wall)
                    cpu_sink.append(cpu)
        results.append(result)
    return ColdResult(modules, results)
