"""Least privilege in template.yaml for the stream function: its own execution role, stream reads on the products
table's stream only, nothing in the template that reads DynamoDB streams on "*", and every role holding what AWS
documents for its event sources.

SAM gives a function with a DynamoDB event the managed policy AWSLambdaDynamoDBExecutionRole (stream reads on every
stream of the account) unless the function names its own Role; with a Role, SAM adds nothing to it, not even the
SendMessage of the event's OnFailure queue, so the role must hold everything the function and its event source use.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

FUNCTION = "ProductChangesFunction"
ROLE = "ProductChangesFunctionRole"
STREAM_ARN = {"Fn::GetAtt": ["ProductsTable", "StreamArn"]}
# What Lambda's poller calls on a stream given by its ARN.
STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"}
# No resource-level permission: it can only be granted on "*". It lists stream ARNs, not records, and Lambda checks
# the role for it when it creates a DynamoDB event source mapping (the deploy fails without it).
LIST_STREAMS = "dynamodb:ListStreams"
STREAM_ACTIONS = {*STREAM_READS, LIST_STREAMS}
# SAM's event source policies: each grants stream or queue reads on "*".
BROAD_MANAGED_POLICIES = ("AWSLambdaDynamoDBExecutionRole", "AWSLambdaInvocation-DynamoDB", "AmazonDynamoDB")
PULL_EVENT_TYPES = {"DynamoDB", "Kinesis", "SQS", "MSK", "MQ", "SelfManagedKafka", "DocumentDB"}
# The execution role permissions AWS documents for each event source type (Lambda developer guide, "Execution role
# permissions" of each event source), and for each OnFailure destination type.
EVENT_SOURCE_MINIMUM = {
    "DynamoDB": {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"},
    "Kinesis": {
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:SubscribeToShard",
    },
    "SQS": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
}
ON_FAILURE_MINIMUM = {"SQS": {"sqs:SendMessage"}, "SNS": {"sns:Publish"}}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(logical id, statement) of every IAM statement the template writes itself: roles' and policies' documents and
    the `Policies` statements of SAM functions."""
    found: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties") or {}
        documents: list[Any] = []
        if resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [properties["PolicyDocument"]]
        elif resource["Type"] == "AWS::Serverless::Function":
            documents = [policy for policy in _as_list(properties.get("Policies", [])) if isinstance(policy, dict)]
        for document in documents:
            found.extend((logical_id, statement) for statement in _as_list(document.get("Statement", [])))
    return found


def _matches(action: str, patterns: Any) -> bool:
    """IAM action patterns: `*` and `?` wildcards, case-insensitive."""
    return any(fnmatchcase(action.lower(), str(pattern).lower()) for pattern in _as_list(patterns))


def _grants(statement: dict[str, Any], action: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return not _matches(action, statement["NotAction"])
    return _matches(action, statement["Action"])


def _arn_text(arn: Any) -> str:
    """A managed policy ARN, written plainly or as !Sub."""
    return str(arn["Fn::Sub"]) if isinstance(arn, dict) and "Fn::Sub" in arn else str(arn)


def _role_of(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][ROLE]["Properties"]
    return properties


def test_the_stream_function_has_its_own_role_and_no_sam_policies(cfn_template: dict[str, Any]) -> None:
    function = cfn_template["Resources"][FUNCTION]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": [ROLE, "Arn"]}
    # SAM ignores Policies next to a Role: statements there would look granted and not be.
    assert "Policies" not in function
    assert cfn_template["Resources"][ROLE]["Type"] == "AWS::IAM::Role"
    trust = _as_list(_role_of(cfn_template)["AssumeRolePolicyDocument"]["Statement"])
    assert [(s["Effect"], s["Principal"], s["Action"]) for s in trust] == [
        ("Allow", {"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")
    ]


def test_every_function_with_a_polled_event_source_names_its_own_role(cfn_template: dict[str, Any]) -> None:
    """Without a Role, SAM attaches its managed policy for the event type, which reads every stream or queue."""
    for logical_id, resource in cfn_template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        polled = [name for name, event in (properties.get("Events") or {}).items() if event["Type"] in PULL_EVENT_TYPES]
        if polled:
            assert "Role" in properties, f"{logical_id}: events {polled} without a Role get SAM's broad policy"


def test_stream_reads_are_scoped_to_the_products_table_stream(cfn_template: dict[str, Any]) -> None:
    statements = _statements(cfn_template)
    granting = [
        (logical_id, statement)
        for logical_id, statement in statements
        if any(_grants(statement, action) for action in STREAM_ACTIONS)
    ]
    assert granting, "no statement reads the products table's stream"
    for logical_id, statement in granting:
        assert "NotResource" not in statement, logical_id
        if _grants(statement, LIST_STREAMS):
            # the one action that only "*" grants: alone in its statement, so nothing else rides along on "*"
            assert _as_list(statement["Action"]) == [LIST_STREAMS], f"{logical_id}: {statement}"
            assert _as_list(statement["Resource"]) == ["*"], f"{logical_id}: {statement}"
            continue
        assert _as_list(statement["Resource"]) == [STREAM_ARN], f"{logical_id}: {statement}"
        assert "*" not in str(statement["Resource"]), logical_id
    granted_to_role = {
        action
        for logical_id, statement in granting
        if logical_id == ROLE
        for action in STREAM_ACTIONS
        if _grants(statement, action)
    }
    assert granted_to_role == STREAM_ACTIONS


@pytest.mark.parametrize("action", sorted(STREAM_READS))
def test_nothing_grants_a_stream_read_on_every_resource(cfn_template: dict[str, Any], action: str) -> None:
    for logical_id, statement in _statements(cfn_template):
        if _grants(statement, action):
            resources = _as_list(statement.get("Resource", "*"))
            assert "*" not in resources, f"{logical_id} grants {action} on '*'"


def test_the_role_attaches_no_managed_policy_with_stream_access(cfn_template: dict[str, Any]) -> None:
    managed = [_arn_text(arn) for arn in _role_of(cfn_template).get("ManagedPolicyArns", [])]
    assert [arn for arn in managed if any(name in arn for name in BROAD_MANAGED_POLICIES)] == []
    # logs and X-Ray (Tracing: Active in Globals), nothing else
    assert sorted(arn.split(":policy/")[1] for arn in managed) == [
        "AWSXRayDaemonWriteAccess",
        "service-role/AWSLambdaBasicExecutionRole",
    ]
    assert cfn_template["Globals"]["Function"]["Tracing"] == "Active"


def test_the_role_holds_what_the_function_and_its_event_source_use(cfn_template: dict[str, Any]) -> None:
    role_statements = [statement for logical_id, statement in _statements(cfn_template) if logical_id == ROLE]
    granted = {
        (action, str(resource))
        for statement in role_statements
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    history = str({"Fn::GetAtt": ["HistoryTable", "Arn"]})
    limits = str({"Fn::GetAtt": ["LimitsTable", "Arn"]})
    bus = str({"Fn::GetAtt": ["ProductEventsBus", "Arn"]})
    queue = {"Fn::GetAtt": ["ProductChangesDeadLetterQueue", "Arn"]}
    assert granted == {
        *((action, str(STREAM_ARN)) for action in STREAM_READS),
        (LIST_STREAMS, "*"),
        ("dynamodb:PutItem", history),
        ("dynamodb:UpdateItem", history),
        # the meter's TransactWriteItems: a marker put and the month's ADD
        ("dynamodb:PutItem", limits),
        ("dynamodb:UpdateItem", limits),
        ("events:PutEvents", bus),
        ("sqs:SendMessage", str(queue)),
    }
    # the queue the role may send to is the event source's OnFailure destination
    (event,) = cfn_template["Resources"][FUNCTION]["Properties"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    assert event["Properties"]["Stream"] == STREAM_ARN
    assert event["Properties"]["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": queue}


def _actions_granted_to(template: dict[str, Any], role: str, resource: Any) -> set[str]:
    """Actions the role's own statements allow on `resource` (a statement on "*" counts for every resource)."""
    allowed: set[str] = set()
    for logical_id, statement in _statements(template):
        if logical_id != role or statement.get("Effect") != "Allow":
            continue
        resources = _as_list(statement.get("Resource", []))
        if resource in resources or "*" in resources:
            allowed.update(str(action) for action in _as_list(statement["Action"]))
    return allowed


def test_every_role_holds_what_aws_documents_for_its_event_sources(cfn_template: dict[str, Any]) -> None:
    """Lambda checks the role when it creates an event source mapping: a missing action fails the deploy."""
    checked = 0
    for logical_id, resource in cfn_template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        for name, event in (properties.get("Events") or {}).items():
            if event["Type"] not in PULL_EVENT_TYPES:
                continue
            assert event["Type"] in EVENT_SOURCE_MINIMUM, f"{logical_id}.{name}: add the documented minimum here"
            role = properties["Role"]["Fn::GetAtt"][0]
            source = event["Properties"].get("Stream") or event["Properties"].get("Queue")
            for action in EVENT_SOURCE_MINIMUM[event["Type"]]:
                # ListStreams has no resource-level permission: it is granted on "*"
                target = "*" if action == LIST_STREAMS else source
                assert action in _actions_granted_to(cfn_template, role, target), f"{role} lacks {action} for {name}"
                checked += 1
            on_failure = (event["Properties"].get("DestinationConfig") or {}).get("OnFailure")
            if on_failure:
                for action in ON_FAILURE_MINIMUM[on_failure["Type"]]:
                    allowed = _actions_granted_to(cfn_template, role, on_failure["Destination"])
                    assert action in allowed, f"{role} lacks {action} for {name}'s OnFailure destination"
                    checked += 1
    assert checked >= len(EVENT_SOURCE_MINIMUM["DynamoDB"]) + 1


def test_the_minimum_check_sees_a_missing_action(cfn_template: dict[str, Any]) -> None:
    role = cfn_template["Resources"][ROLE]["Properties"]
    statements = [s for p in role["Policies"] for s in _as_list(p["PolicyDocument"]["Statement"])]
    without = [s for s in statements if not _grants(s, LIST_STREAMS)]
    template = {"Resources": {ROLE: {"Type": "AWS::IAM::Role", "Properties": {"Policies": [
        {"PolicyName": "p", "PolicyDocument": {"Statement": without}}]}}}}  # fmt: skip
    assert LIST_STREAMS not in _actions_granted_to(template, ROLE, "*")
    assert LIST_STREAMS in _actions_granted_to(cfn_template, ROLE, "*")


# --- the image functions: each S3 grant names the bucket prefix it serves -----------------------------------------

# function -> (action, prefix) pairs it may use on the images bucket; anything else is a grant too many.
IMAGE_GRANTS = {
    "ProductImagesFunction": {
        ("s3:PutObject", "images/*"),
        ("s3:DeleteObject", "images/*"),
        # a presigned POST acts with the signer's rights
        ("s3:PutObject", "uploads/*"),
    },
    "IngestProductImageFunction": {
        ("s3:GetObject", "uploads/*"),
        ("s3:DeleteObject", "uploads/*"),
        ("s3:PutObject", "images/*"),
        ("s3:DeleteObject", "images/*"),
        # listing, for a 404 rather than a 403 on a file already gone, under uploads/ only
        ("s3:ListBucket", "uploads/*"),
    },
}


def _sub_text(resource: Any) -> str:
    sub = resource["Fn::Sub"]
    return str(sub[0] if isinstance(sub, list) else sub)


def _s3_grants(cfn_template: dict[str, Any], function: str) -> set[tuple[str, str]]:
    grants: set[tuple[str, str]] = set()
    for policy in cfn_template["Resources"][function]["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []):
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            for action in (action for action in actions if action.startswith("s3:")):
                assert statement["Effect"] == "Allow" and "*" not in action, statement
                resource = _sub_text(statement["Resource"])
                if action == "s3:ListBucket":
                    # the bucket itself, narrowed by the listed prefix
                    assert not resource.endswith("/*"), statement
                    grants.add((action, statement["Condition"]["StringLike"]["s3:prefix"]))
                else:
                    bucket, _, prefix = resource.partition("/")
                    assert bucket.endswith(("${ImagesBucket.Arn}", "products-images-${StackUuid}")), statement
                    grants.add((action, prefix))
    return grants


@pytest.mark.parametrize("function", sorted(IMAGE_GRANTS))
def test_image_functions_hold_only_the_bucket_prefixes_they_use(cfn_template: dict[str, Any], function: str) -> None:
    assert _s3_grants(cfn_template, function) == IMAGE_GRANTS[function]


def test_no_other_function_touches_the_images_bucket(cfn_template: dict[str, Any]) -> None:
    for name, resource in cfn_template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function" and name not in IMAGE_GRANTS:
            assert not _s3_grants(cfn_template, name), name
