"""template.yaml beyond IAM roles: log retention, the API's access log, the CORS option, parameters the functions
accept, and no permission the code never uses."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Annotated, Any

import pytest
from products_api.core.settings import (
    ChangesSettings,
    DynamoDBClientSettings,
    HistorySettings,
    ReadSettings,
    Settings,
    UsageSettings,
)
from products_api.images.settings import ImagesSettings, IngestSettings
from products_api_local.template.document import project_root
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

# CloudWatch Logs' accepted values of RetentionInDays (PutRetentionPolicy).
CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                             2922, 3288, 3653]  # fmt: skip
# The settings model each function reads (settings.py): its parameters must fit it.
FUNCTION_SETTINGS: dict[str, type[DynamoDBClientSettings]] = {
    "UpdateProductFunction": Settings,
    "GetProductHistoryFunction": HistorySettings,
    "ProductChangesFunction": ChangesSettings,
    "ProductImagesFunction": ImagesSettings,
    "IngestProductImageFunction": IngestSettings,
    "GetProductsFunction": ReadSettings,
    "GetUsageFunction": UsageSettings,
}
# Functions that read no settings (the optional /docs page serves files only); they still log with retention.
FUNCTIONS_WITHOUT_SETTINGS = {"DocsFunction"}
ALL_FUNCTIONS = sorted({*FUNCTION_SETTINGS, *FUNCTIONS_WITHOUT_SETTINGS})
# Per table, the class whose methods are the only DynamoDB calls on it (the data modules).
TABLE_STORES = {
    "ProductsTable": "ProductStore",
    "CredentialsTable": "CredentialStore",
    "HistoryTable": "HistoryStore",
    "LimitsTable": "LimitsStore",
}
# Items of a TransactWriteItems call: IAM authorises each through the single-item action.
TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def _ref_target(template: dict[str, Any], value: Any) -> dict[str, Any]:
    assert isinstance(value, dict) and set(value) == {"Ref"}, value
    resource: dict[str, Any] = template["Resources"][value["Ref"]]
    return resource


# --- logs ----------------------------------------------------------------------------------------


def test_log_retention_parameter_offers_what_cloudwatch_accepts(cfn_template: dict[str, Any]) -> None:
    parameter = cfn_template["Parameters"]["LogRetentionDays"]
    assert parameter["Type"] == "Number"
    assert [int(value) for value in parameter["AllowedValues"]] == CLOUDWATCH_RETENTION_DAYS
    assert int(parameter["Default"]) in CLOUDWATCH_RETENTION_DAYS


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_every_function_logs_to_a_log_group_with_retention(cfn_template: dict[str, Any], function: str) -> None:
    properties = cfn_template["Resources"][function]["Properties"]
    log_group = _ref_target(cfn_template, properties["LoggingConfig"]["LogGroup"])
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_function_of_the_template_is_checked_here(cfn_template: dict[str, Any]) -> None:
    assert set(_resources_of_type(cfn_template, "AWS::Serverless::Function")) == set(ALL_FUNCTIONS)


def test_every_log_group_expires(cfn_template: dict[str, Any]) -> None:
    groups = _resources_of_type(cfn_template, "AWS::Logs::LogGroup")
    assert len(groups) >= len(FUNCTION_SETTINGS) + 1
    for name, group in groups.items():
        assert group["Properties"].get("RetentionInDays") == {"Ref": "LogRetentionDays"}, name


def _access_log_settings(template: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = template["Resources"]["ProductsHttpApi"]["Properties"]["AccessLogSettings"]
    return settings


def test_api_access_log_is_one_json_object_per_request_in_its_own_group(cfn_template: dict[str, Any]) -> None:
    settings = _access_log_settings(cfn_template)
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    destination = cfn_template["Resources"]["ApiAccessLogGroup"]
    assert destination["Type"] == "AWS::Logs::LogGroup"
    function_groups = {
        properties["LoggingConfig"]["LogGroup"]["Ref"]
        for properties in (
            r["Properties"] for r in _resources_of_type(cfn_template, "AWS::Serverless::Function").values()
        )
    }
    assert "ApiAccessLogGroup" not in function_groups
    # what API Gateway writes: the format with each $context variable replaced by a value
    line = re.sub(r"\$context\.[A-Za-z.]+", "x", settings["Format"])
    fields = json.loads(line)
    assert {"requestId", "ip", "method", "path", "status", "latencyMs"} <= set(fields)
    variables = dict(re.findall(r'"(\w+)":"(\$context\.[A-Za-z.]+)"', settings["Format"]))
    assert variables["requestId"] == "$context.requestId"
    assert variables["ip"] == "$context.identity.sourceIp"
    assert variables["status"] == "$context.status"
    assert variables["latencyMs"] == "$context.responseLatency"


def test_api_access_log_never_holds_a_header_or_credential(cfn_template: dict[str, Any]) -> None:
    log_format = _access_log_settings(cfn_template)["Format"]
    assert "authorization" not in log_format.lower()
    assert "$request" not in log_format  # $request.header.* would copy a request header
    assert "$context.authorizer" not in log_format
    # every value is a $context variable: nothing else can slip in
    values = re.findall(r':"([^"]*)"', log_format)
    assert values and all(re.fullmatch(r"\$context\.[A-Za-z.]+", value) for value in values)


# --- CORS ----------------------------------------------------------------------------------------


def test_cors_is_configured_only_when_origins_are_given(cfn_template: dict[str, Any]) -> None:
    parameter = cfn_template["Parameters"]["AllowedOrigins"]
    assert parameter["Default"] == ""
    assert cfn_template["Conditions"]["HasAllowedOrigins"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AllowedOrigins"}, ""]}]
    }
    cors = cfn_template["Resources"]["ProductsHttpApi"]["Properties"]["CorsConfiguration"]
    condition, when_set, when_empty = cors["Fn::If"]
    assert condition == "HasAllowedOrigins"
    assert when_empty == {"Ref": "AWS::NoValue"}
    assert when_set["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "AllowedOrigins"}]}
    # what a browser client sends and must read
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= set(when_set["AllowHeaders"])
    assert {"etag", "retry-after", "idempotent-replayed"} <= set(when_set["ExposeHeaders"])
    assert {"GET", "PATCH"} <= set(when_set["AllowMethods"])


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("*", True),
        ("https://app.example.com", True),
        ("https://app.example.com,http://localhost:5173", True),
        ("https://app.example.com, https://admin.example.com", False),
        ("app.example.com", False),
        ("https://app.example.com/", False),
        ("https://app.example.com,", False),
    ],
)
def test_allowed_origins_pattern(cfn_template: dict[str, Any], value: str, accepted: bool) -> None:
    # CloudFormation matches AllowedPattern against the whole value
    pattern = cfn_template["Parameters"]["AllowedOrigins"]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) == accepted


# --- parameters the functions accept ---------------------------------------------------------------


def _field_for(model: type[DynamoDBClientSettings], variable: str) -> FieldInfo | None:
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        if (alias if isinstance(alias, str) else name).upper() == variable:
            return field
    return None


def _adapter(field: FieldInfo) -> TypeAdapter[Any]:
    annotated: Any = Annotated[field.annotation, *field.metadata]
    return TypeAdapter(annotated)


def _bound(field: FieldInfo, name: str) -> float | None:
    for constraint in field.metadata:
        if hasattr(constraint, name):
            value: float = getattr(constraint, name)
            return value
    return None


def _parameter_settings(template: dict[str, Any]) -> list[tuple[str, str, str, FieldInfo]]:
    """(function, variable, parameter, settings field) for every variable a function sets from a parameter."""
    found = []
    for function, model in FUNCTION_SETTINGS.items():
        variables = template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
        for variable, value in variables.items():
            if not (isinstance(value, dict) and value.get("Ref") in template["Parameters"]):
                continue
            field = _field_for(model, variable)
            if field is not None:
                found.append((function, variable, value["Ref"], field))
    return found


def test_numeric_parameters_have_the_settings_bounds(cfn_template: dict[str, Any]) -> None:
    checked = _parameter_settings(cfn_template)
    assert {variable for _, variable, _, _ in checked} >= {"CREDENTIAL_CACHE_SECONDS"}
    for function, variable, name, field in checked:
        parameter = cfn_template["Parameters"][name]
        where = f"{name} -> {function} {variable}"
        # an exclusive bound cannot be said with MinValue/MaxValue
        assert _bound(field, "gt") is None and _bound(field, "lt") is None, where
        if parameter["Type"] == "Number":
            assert parameter.get("MinValue") == _bound(field, "ge"), where
            assert parameter.get("MaxValue") == _bound(field, "le"), where
        for allowed in parameter.get("AllowedValues", []):
            _adapter(field).validate_python(str(allowed))
        _adapter(field).validate_python(str(parameter["Default"]))


def test_a_value_past_the_parameter_bound_is_refused_by_the_settings(cfn_template: dict[str, Any]) -> None:
    """The comparison above means something: one step past MaxValue is a value the function refuses."""
    parameter = cfn_template["Parameters"]["CredentialCacheSeconds"]
    field = Settings.model_fields["credential_cache_seconds"]
    _adapter(field).validate_python(str(parameter["MaxValue"]))
    with pytest.raises(ValidationError):
        _adapter(field).validate_python(str(parameter["MaxValue"] + 1))
    with pytest.raises(ValidationError):
        _adapter(field).validate_python(str(parameter["MinValue"] - 1))


# --- no unused grants ----------------------------------------------------------------------------


def _store_class(name: str) -> list[ast.AST]:
    """The class, wherever it lives in the shared package, and the functions of its capability's folder that it
    calls (the items of its transactions may be built there: products/transactions.py)."""
    for path in sorted((project_root() / "layers" / "shared" / "products_api").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == name:
                return [node, *_helpers_called(node, path.parent)]
    raise AssertionError(f"no class {name} in layers/shared/products_api")


def _helpers_called(store: ast.ClassDef, folder: Path) -> list[ast.FunctionDef]:
    """Top-level functions of `folder`'s modules that the class calls by name."""
    called = {
        node.func.id for node in ast.walk(store) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    helpers = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
            if isinstance(node, ast.FunctionDef) and node.name in called:
                helpers.append(node)
    return helpers


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _called_actions(store: list[ast.AST]) -> set[str]:
    """IAM actions of the DynamoDB calls the class makes: `self._client.x(...)` and the items of its transactions."""
    actions: set[str] = set()
    for node in (inner for part in store for inner in ast.walk(part)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "_client"
            and node.func.attr != "transact_write_items"
        ):
            actions.add("dynamodb:" + _camel(node.func.attr))
        if isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and key.value in TRANSACTION_ITEM_ACTIONS:
                    actions.add("dynamodb:" + TRANSACTION_ITEM_ACTIONS[key.value])
    return actions


def _granted_on(template: dict[str, Any], table: str) -> dict[str, set[str]]:
    """Logical id -> actions it grants on the table (its ARN)."""
    arn = {"Fn::GetAtt": [table, "Arn"]}
    grants: dict[str, set[str]] = {}
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            documents = [p for p in properties.get("Policies", []) if isinstance(p, dict)]
        elif resource["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                if arn in _as_list(statement["Resource"]):
                    grants.setdefault(logical_id, set()).update(_as_list(statement["Action"]))
    return grants


@pytest.mark.parametrize(("table", "store"), sorted(TABLE_STORES.items()))
def test_no_grant_on_a_table_is_an_action_the_code_never_calls(
    cfn_template: dict[str, Any], table: str, store: str
) -> None:
    called = _called_actions(_store_class(store))
    grants = _granted_on(cfn_template, table)
    assert grants, f"nothing is granted on {table}"
    for logical_id, actions in grants.items():
        assert actions <= called, f"{logical_id} is granted {sorted(actions - called)} on {table}, never called"


def test_the_update_function_may_make_every_write_of_the_products_store(cfn_template: dict[str, Any]) -> None:
    called = _called_actions(_store_class("ProductStore"))
    assert "dynamodb:ConditionCheckItem" not in called
    writes = {action for action in called if not action.endswith(("GetItem", "Query", "Scan"))}
    assert writes >= {"dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}
    assert writes <= _granted_on(cfn_template, "ProductsTable")["UpdateProductFunction"]


def test_the_action_finder_sees_transaction_items() -> None:
    tree = ast.parse(
        "class S:\n"
        "    def f(self):\n"
        "        self._client.get_item(Key={})\n"
        "        self._client.transact_write_items(TransactItems=[{'ConditionCheck': {}}, {'Put': {}}])\n"
    )
    (store,) = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert _called_actions([store]) == {"dynamodb:GetItem", "dynamodb:ConditionCheckItem", "dynamodb:PutItem"}


def test_the_action_finder_follows_the_helpers_a_store_calls(tmp_path: Path) -> None:
    """Transaction items built by a helper of the store's folder count as the store's calls; others do not."""
    (tmp_path / "store.py").write_text(
        "class S:\n    def f(self):\n        self._client.transact_write_items(TransactItems=build())\n"
    )
    (tmp_path / "items.py").write_text(
        "def build():\n    return [{'Delete': {}}]\n\ndef unused():\n    return [{'Put': {}}]\n"
    )
    tree = ast.parse((tmp_path / "store.py").read_text())
    (store,) = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert _called_actions([store, *_helpers_called(store, tmp_path)]) == {"dynamodb:DeleteItem"}
