"""Observability in template.yaml: each function traced and configured for metrics, the alarms on errors, throttles
and latency, and their notifications only with a topic."""

from __future__ import annotations

from typing import Any

import pytest

# --- template.yaml -------------------------------------------------------------------------------------------------

FUNCTION = "UpdateProductFunction"
NO_VALUE = {"Ref": "AWS::NoValue"}
TOPIC_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], NO_VALUE]}


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def _metrics_of(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, plain or in metric math."""
    plain = (
        [alarm]
        if "MetricName" in alarm
        else [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
    )
    return [
        (metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])})
        for metric in plain
    ]


@pytest.mark.parametrize("logical_id", [FUNCTION, "GetProductHistoryFunction"])
def test_the_function_is_traced_and_configured_for_metrics(cfn_template: dict[str, Any], logical_id: str) -> None:
    function = cfn_template["Resources"][logical_id]["Properties"]
    tracing = function.get("Tracing", cfn_template.get("Globals", {}).get("Function", {}).get("Tracing"))
    assert tracing == "Active"
    variables = function["Environment"]["Variables"]
    # the values conftest gives the tests, so the tests see what the deployed function does
    assert variables["POWERTOOLS_SERVICE_NAME"] == "products-api"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "ProductsApi"
    assert variables["ENVIRONMENT_NAME"] == {"Ref": "AWS::StackName"}


def test_alarms_cover_errors_throttles_and_latency(cfn_template: dict[str, Any]) -> None:
    alarms = _alarms(cfn_template)
    read = {name: _metrics_of(alarm) for name, alarm in alarms.items()}
    api = {"ApiId": {"Ref": "ProductsHttpApi"}}

    (error_rate,) = [name for name, metrics in read.items() if ("AWS/ApiGateway", "5xx", api) in metrics]
    assert ("AWS/ApiGateway", "Count", api) in read[error_rate]
    expression = next(q["Expression"] for q in alarms[error_rate]["Metrics"] if q.get("ReturnData"))
    assert "errors / requests" in str(expression)
    assert alarms[error_rate]["Threshold"] == {"Ref": "ServerErrorRateThreshold"}

    function = {"FunctionName": {"Ref": FUNCTION}}
    (throttles,) = [name for name, metrics in read.items() if ("AWS/Lambda", "Throttles", function) in metrics]
    assert alarms[throttles]["Threshold"] == {"Ref": "ThrottlesThreshold"}

    table_alarm_metrics = [metric for metrics in read.values() for metric in metrics if metric[0] == "AWS/DynamoDB"]
    throttled_tables = {metric[2]["TableName"]["Ref"] for metric in table_alarm_metrics}
    assert throttled_tables == {"ProductsTable", "IdempotencyTable", "CredentialsTable", "HistoryTable"}
    # the history table is written by the stream function and read by the history route
    history_metrics = {metric[1] for metric in table_alarm_metrics if metric[2]["TableName"]["Ref"] == "HistoryTable"}
    assert history_metrics == {"ReadThrottleEvents", "WriteThrottleEvents"}

    (latency,) = [name for name, metrics in read.items() if ("AWS/ApiGateway", "Latency", api) in metrics]
    assert alarms[latency]["ExtendedStatistic"] == "p99"
    assert alarms[latency]["Threshold"] == {"Ref": "LatencyP99ThresholdMs"}

    # any message in the stream function's dead-letter queue is a write without history or event
    dead_letters = {"QueueName": {"Fn::GetAtt": ["ProductChangesDeadLetterQueue", "QueueName"]}}
    (dead_letter,) = [
        name
        for name, metrics in read.items()
        if ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dead_letters) in metrics
    ]
    assert alarms[dead_letter]["Threshold"] == 1

    # the stream function: whole invocations failing, and records waiting behind it
    stream_function = {"FunctionName": {"Ref": "ProductChangesFunction"}}
    (stream_errors,) = [name for name, metrics in read.items() if ("AWS/Lambda", "Errors", stream_function) in metrics]
    assert (alarms[stream_errors]["Statistic"], alarms[stream_errors]["Period"]) == ("Sum", 300)
    assert alarms[stream_errors]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarms[stream_errors]["Threshold"] == {"Ref": "ProductChangesErrorsThreshold"}
    assert cfn_template["Parameters"]["ProductChangesErrorsThreshold"]["Default"] == 1
    (iterator_age,) = [
        name for name, metrics in read.items() if ("AWS/Lambda", "IteratorAge", stream_function) in metrics
    ]
    age = alarms[iterator_age]
    # the maximum of each minute, in 3 of 5 minutes
    assert (age["Statistic"], age["Period"]) == ("Maximum", 60)
    assert (age["DatapointsToAlarm"], age["EvaluationPeriods"]) == (3, 5)
    assert age["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert age["Threshold"] == {"Ref": "ProductChangesIteratorAgeThresholdMs"}
    assert cfn_template["Parameters"]["ProductChangesIteratorAgeThresholdMs"]["Default"] == 60000

    for name, alarm in alarms.items():
        threshold = alarm["Threshold"]
        if isinstance(threshold, dict):
            assert "Default" in cfn_template["Parameters"][threshold["Ref"]], f"{name}: {threshold} needs a default"
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_alarm_notifications_only_with_a_topic(cfn_template: dict[str, Any]) -> None:
    topic = cfn_template["Parameters"]["AlarmTopicArn"]
    assert topic["Type"] == "String" and topic["Default"] == ""
    assert cfn_template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    alarms = _alarms(cfn_template)
    assert len(alarms) >= 7
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == TOPIC_ACTIONS, name
        assert alarm["OKActions"] == TOPIC_ACTIONS, name
