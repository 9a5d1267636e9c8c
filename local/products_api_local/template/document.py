"""template.yaml read as plain data: CloudFormation's short-form tags in their long form, and where the checkout is.

Read it through `products_api_local.template.model.LocalTemplate`, which parses it once into typed parts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_FILE = "template.yaml"


class TemplateError(ValueError):
    """template.yaml cannot be read, or declares a table this module cannot reproduce locally."""


class CloudFormationLoader(yaml.SafeLoader):
    """A safe YAML loader that reads CloudFormation's short-form tags as their long form (`!Ref X` -> {"Ref": "X"})."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - YAML has no other node kinds
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{tag_suffix}", node.start_mark)
    # Ref and Condition have no Fn:: prefix in their long form.
    if tag_suffix in {"Ref", "Condition"}:
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        # The attribute name may itself contain dots (`!GetAtt Db.Endpoint.Address`): split on the first one only.
        resource, dot, attribute = value.partition(".")
        if not dot or not resource or not attribute:
            raise yaml.constructor.ConstructorError(
                None, None, f"!GetAtt expects Resource.Attribute, got {value!r}", node.start_mark
            )
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)
# CloudFormation has no date type: `AWSTemplateFormatVersion: 2010-09-09` unquoted must stay a string.
CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def project_root() -> Path:
    """The folder holding template.yaml: above this module in a checkout, else the working directory or a parent."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / TEMPLATE_FILE).is_file():
                return folder
    raise TemplateError(
        f"cannot find {TEMPLATE_FILE} above {Path(__file__).resolve().parent} or {Path.cwd()}: "
        "run from the project checkout"
    )


def load_template(path: Path | None = None) -> dict[str, Any]:
    """template.yaml as plain data, intrinsic functions in their long form."""
    path = path or project_root() / TEMPLATE_FILE
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template: no Resources mapping")
    return document


@dataclass(frozen=True)
class FunctionEvent:
    """One event of an AWS::Serverless::Function: what invokes it (its `Properties`)."""

    function: str  # the function's logical id
    event_id: str
    properties: Mapping[str, Any]

    @property
    def where(self) -> str:
        """Where it stands in the template, for error messages: `<function>.Events.<event id>`."""
        return f"{self.function}.Events.{self.event_id}"


def function_events(template: Mapping[str, Any], event_type: str) -> Iterator[FunctionEvent]:
    """Every event of type `event_type` (HttpApi, DynamoDB, S3...) of every AWS::Serverless::Function, in the
    template's order: what the routes, the stream sources and the S3 subscriptions are read from.
    """
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event_id, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if isinstance(event, Mapping) and event.get("Type") == event_type:
                yield FunctionEvent(str(logical_id), str(event_id), event.get("Properties") or {})
