"""The functions of template.yaml as the local runner runs them: code folder, handler, Timeout, memory, reserved
concurrency and environment, with Globals applied and intrinsic functions resolved to their local values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from products_api_local import s3_local
from products_api_local.functions.context import ACCOUNT_ID
from products_api_local.template.document import TemplateError

STACK_NAME = "products-api-local"
# SAM's own defaults when neither the function nor Globals set them.
SAM_DEFAULT_TIMEOUT = 3
SAM_DEFAULT_MEMORY = 128


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # module.function, as Lambda reads it
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str] = field(default_factory=dict)
    # ReservedConcurrentExecutions: at most this many invocations at once (None: the account's limit, locally the
    # runner's --concurrency).
    reserved_concurrency: int | None = None


def local_table_names(template: Mapping[str, Any]) -> dict[str, str]:
    """Logical id -> local physical name: the literal TableName if the template sets one, else the logical id."""
    names: dict[str, str] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, Mapping) and resource.get("Type") == "AWS::DynamoDB::Table":
            table_name = (resource.get("Properties") or {}).get("TableName")
            names[logical_id] = table_name if isinstance(table_name, str) else logical_id
    return names


class _Resolver:
    """The few intrinsic functions a function's configuration uses, resolved to their local values."""

    def __init__(self, template: Mapping[str, Any], table_names: Mapping[str, str], region: str) -> None:
        self._tables = table_names
        self._resources: Mapping[str, Any] = template.get("Resources") or {}
        self._parameters: Mapping[str, Any] = template.get("Parameters") or {}
        self._pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, where: str, value: Any) -> str:
        if isinstance(value, bool):  # CloudFormation passes booleans on as "true" / "false"
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, Mapping) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
            return self._ref(where, value["Ref"])
        if isinstance(value, Mapping) and list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
            return re.sub(r"\$\{([^}!]+)\}", lambda found: self._ref(where, found.group(1)), value["Fn::Sub"])
        raise TemplateError(
            f"template.yaml: {where} is {json.dumps(value)}, which the local runner cannot resolve "
            "(it knows literals, !Ref to a table, a parameter or a pseudo parameter, and !Sub of those)"
        )

    def _ref(self, where: str, name: str) -> str:
        if name in self._tables:
            return self._tables[name]
        resource = self._resources.get(name)
        if isinstance(resource, Mapping) and resource.get("Type") == "AWS::Events::EventBus":
            # Ref of an event bus is its name; the local sink takes any name
            bus_name = (resource.get("Properties") or {}).get("Name")
            if bus_name is None:
                raise TemplateError(f"template.yaml: {name} needs a Name for {where} to resolve locally")
            return self.resolve(f"{name}.Properties.Name", bus_name)
        # the images bucket and its distribution (issue 15): their local values come from the local S3
        local_value = s3_local.local_reference(self._resources, name)
        if local_value is not None:
            return local_value
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            default = (self._parameters[name] or {}).get("Default")
            if default is None:
                raise TemplateError(f"template.yaml: {where} refers to parameter {name}, which has no Default")
            return self.resolve(f"Parameters.{name}.Default", default)
        raise TemplateError(
            f"template.yaml: {where} refers to {name}, which the local runner cannot resolve "
            "(only DynamoDB tables, event buses, S3 buckets, the CloudFront distribution's DomainName, parameters and "
            "AWS:: pseudo parameters have local values)"
        )


def function_specs(
    template: Mapping[str, Any], root: Path, table_names: Mapping[str, str], region: str
) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function, its Globals applied and its environment resolved to local values."""
    resolver = _Resolver(template, table_names, region)
    defaults: Mapping[str, Any] = (template.get("Globals") or {}).get("Function") or {}
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties: Mapping[str, Any] = resource.get("Properties") or {}

        def setting(name: str, fallback: Any = None, given: Mapping[str, Any] = properties) -> Any:
            return given.get(name, defaults.get(name, fallback))

        code_uri, handler = setting("CodeUri"), setting("Handler")
        if code_uri is None or handler is None:
            raise TemplateError(f"template.yaml: {logical_id} needs CodeUri and Handler to run locally")
        code_dir = root / resolver.resolve(f"{logical_id}.CodeUri", code_uri)
        if not code_dir.is_dir():
            raise TemplateError(f"template.yaml: {logical_id}.CodeUri {code_dir} is not a folder")
        # Globals' variables apply to every function, which can override them one by one.
        variables = {
            **((defaults.get("Environment") or {}).get("Variables") or {}),
            **((properties.get("Environment") or {}).get("Variables") or {}),
        }
        environment = {
            name: resolver.resolve(f"{logical_id}.Environment.Variables.{name}", value)
            for name, value in variables.items()
        }
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=code_dir,
            handler=resolver.resolve(f"{logical_id}.Handler", handler),
            timeout_seconds=int(resolver.resolve(f"{logical_id}.Timeout", setting("Timeout", SAM_DEFAULT_TIMEOUT))),
            memory_mb=int(resolver.resolve(f"{logical_id}.MemorySize", setting("MemorySize", SAM_DEFAULT_MEMORY))),
            environment=environment,
            reserved_concurrency=_reserved_concurrency(logical_id, properties.get("ReservedConcurrentExecutions")),
        )
    return specs


def _reserved_concurrency(logical_id: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit() or int(value) < 1:
        raise TemplateError(
            f"template.yaml: {logical_id}.ReservedConcurrentExecutions must be a literal whole number of at least 1 "
            f"to run locally, got {value!r}"
        )
    return int(value)
