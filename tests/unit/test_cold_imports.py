"""What a cold start imports: nothing the first request does not need. X-Ray only when tracing is on (the Tracer
imports aws-xray-sdk, which creates two botocore clients), and no language database. Each case runs in a fresh
interpreter, where an import shows in sys.modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ("update_product", "get_product_history", "upload_product_image")
# Modules the first request does not need (unless tracing is on, for aws_xray_sdk).
NEVER_AT_IMPORT = ("pycountry", "pydantic_extra_types")

_PROBE = """
import json, sys
import {handler} as handler
from products_api.api import observability
codes, layer = [], handler.lambda_handler
while layer is not None:  # the decorators' chain, outermost first (functools.wraps copies names, not code)
    codes.append(layer.__code__)
    layer = getattr(layer, "__wrapped__", None)
print(json.dumps({{
    "loaded": sorted({{name.split(".")[0] for name in sys.modules}}),
    "tracer": observability.tracer is not None,
    "wrapped": any("tracing" in code.co_filename for code in codes),
}}))
"""


def _import(handler: str, folder: str, extra_env: dict[str, str]) -> dict[str, object]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "AWS_LAMBDA_", "LAMBDA_", "AWS_SAM_", "AWS_CHALICE"))
    }
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / folder), str(ROOT / "layers" / "shared")]),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            **extra_env,
        }
    )
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE.format(handler=handler)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, object] = json.loads(completed.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize("handler", HANDLERS)
@pytest.mark.parametrize(
    "environment",
    [
        pytest.param({}, id="outside-lambda"),
        pytest.param(
            {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, id="lambda-tracing-disabled"
        ),
    ],
)
def test_tracing_off_imports_no_xray_and_no_language_table(handler: str, environment: dict[str, str]) -> None:
    result = _import(handler, handler, environment)
    loaded = set(result["loaded"])  # type: ignore[call-overload]
    assert "aws_xray_sdk" not in loaded
    assert not loaded & set(NEVER_AT_IMPORT)
    assert result["tracer"] is False
    assert result["wrapped"] is False


def test_tracing_on_in_lambda_traces_the_handler() -> None:
    # In Lambda (LAMBDA_TASK_ROOT set), tracing not disabled: the Tracer exists and wraps the handler in a subsegment.
    result = _import("update_product", "update_product", {"LAMBDA_TASK_ROOT": "/var/task"})
    assert "aws_xray_sdk" in set(result["loaded"])  # type: ignore[call-overload]
    assert result["tracer"] is True
    assert result["wrapped"] is True
