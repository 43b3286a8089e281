"""Operating the stack: alarms, their topic, the dashboard, CodeDeploy rollouts (template.yaml).

The template is transformed by aws-sam-translator as CloudFormation would get it,
then its conditions and intrinsics are resolved for each backend with the
resolver the sam-local tests use, resources given stand-in physical names.
"""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import pytest
from training_jobs.sagemaker.deploy import VARIANT_NAME
from training_jobs.sagemaker.rollout import ENDPOINT_ALARM_METRICS

from jira_priority import observability
from jira_priority.postprocessing import Action
from jira_priority.settings import FUNCTION_TIMEOUT_SECONDS
from tests.support.events import REPO_ROOT
from tests.support.sam_template import Resolver, load_template, sam_transform

EMBEDDED = {"PredictorBackend": "embedded", "ModelBucket": "models", "ModelKey": "m/model.bin"}
BACKENDS = {"sagemaker": {}, "embedded": EMBEDDED}
STACK = "jira-priority-prod"
FUNCTION_NAME = "jira-priority-prod-PredictFunction-AbC123"

#: The alarms that exist for both backends, and the endpoint's (sagemaker only).
SERVICE_ALARMS = {
    "ApiServerErrorsAlarm",
    "ApiLatencyAlarm",
    "FunctionErrorsAlarm",
    "FunctionThrottlesAlarm",
    "FunctionDurationAlarm",
    "TriageShareAlarm",
}
ENDPOINT_ALARMS = {"EndpointLatencyAlarm", "EndpointServerErrorsAlarm"}
#: The alarms a faulty function version sets off: CodeDeploy rolls the alias back on them.
ROLLBACK_ALARMS = ["ApiServerErrorsAlarm", "ApiLatencyAlarm", "FunctionErrorsAlarm",
                   "FunctionDurationAlarm"]  # fmt: skip

#: AWS's own metrics the template names, per namespace (from each service's metric reference).
AWS_METRICS = {
    "AWS/ApiGateway": {"Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"},
    "AWS/Lambda": {"Duration", "Errors", "Throttles", "ConcurrentExecutions", "Invocations"},
    "AWS/SageMaker": {
        "ModelLatency",
        "OverheadLatency",
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "InvocationsPerInstance",
    },
}


def emitted_metric_names() -> set[str]:
    """What the function's powertools Metrics emits: the real names, from the real code."""
    observability.count_actions(get_args(Action))
    observability.count_predictions(["Major"])
    observability.count_error("upstream_timeout")
    names = set(observability.metrics.metric_set)
    observability.metrics.clear_metrics()
    return {*names, "ColdStart"}


def powertools_settings() -> tuple[str, str]:
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    return variables["POWERTOOLS_METRICS_NAMESPACE"], variables["POWERTOOLS_SERVICE_NAME"]


class Stack:
    """The transformed template for one set of parameters, as CloudFormation would create it."""

    def __init__(self, parameters: dict[str, str]) -> None:
        self.cfn = sam_transform(parameters)
        self.resolver = Resolver(self.cfn, parameters)
        self.resolver.values["AWS::StackName"] = STACK
        for logical_id in self.cfn["Resources"]:
            self.resolver.values[logical_id] = f"{logical_id}-physical"
            self.resolver.values[f"{logical_id}.Arn"] = f"arn:aws:test:us-east-1:1:{logical_id}"
            self.resolver.values[f"{logical_id}.TopicName"] = f"{logical_id}-topic"
        self.resolver.values["PredictFunction"] = FUNCTION_NAME

    def created(self, logical_id: str) -> bool:
        condition = self.cfn["Resources"][logical_id].get("Condition")
        return condition is None or self.resolver.resolve({"Condition": condition}) is True

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        """The resources of ``kind`` this stack creates (their conditions hold)."""
        return {
            logical_id: resource
            for logical_id, resource in self.cfn["Resources"].items()
            if resource["Type"] == kind and self.created(logical_id)
        }

    def properties(self, logical_id: str) -> Any:
        return self.resolver.resolve(self.cfn["Resources"][logical_id]["Properties"])


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def stack(request: pytest.FixtureRequest) -> Stack:
    return Stack(BACKENDS[request.param])


def test_the_operating_parameters_default_to_no_email_and_a_canary() -> None:
    parameters = load_template()["Parameters"]
    assert parameters["AlarmEmail"]["Default"] == ""
    assert parameters["DeploymentType"]["Default"] == "Canary10Percent5Minutes"
    assert "AllAtOnce" in parameters["DeploymentType"]["AllowedValues"]


def test_each_backend_has_its_alarms(stack: Stack) -> None:
    alarms = set(stack.resources("AWS::CloudWatch::Alarm"))
    backend = stack.resolver.values["PredictorBackend"]
    assert alarms == (
        SERVICE_ALARMS | ENDPOINT_ALARMS if backend == "sagemaker" else SERVICE_ALARMS
    )


def test_every_alarm_notifies_a_topic_the_stack_creates_when_it_fires_and_clears(
    stack: Stack,
) -> None:
    assert stack.created("AlarmTopic")
    assert stack.cfn["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    for logical_id, alarm in stack.resources("AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert alarm["Properties"]["OKActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert alarm["Properties"]["AlarmDescription"].strip(), logical_id


@pytest.mark.parametrize(("email", "subscribed"), [("", False), ("ops@example.com", True)])
def test_alarm_email_subscribes_an_address_only_when_given(email: str, subscribed: bool) -> None:
    stack = Stack({"AlarmEmail": email})

    subscriptions = stack.resources("AWS::SNS::Subscription")

    assert bool(subscriptions) is subscribed
    for logical_id in subscriptions:
        assert stack.properties(logical_id) == {
            "TopicArn": "AlarmTopic-physical",
            "Protocol": "email",
            "Endpoint": "ops@example.com",
        }


def alarm_metric(stack: Stack, logical_id: str) -> tuple[str, str, dict[str, str]]:
    properties = stack.properties(logical_id)
    dimensions = {d["Name"]: d["Value"] for d in properties["Dimensions"]}
    return properties["Namespace"], properties["MetricName"], dimensions


def test_api_alarms_watch_the_rest_apis_own_name(stack: Stack) -> None:
    (api,) = stack.resources("AWS::ApiGateway::RestApi")
    api_name = stack.resolver.resolve(stack.cfn["Resources"][api]["Properties"]["Body"]["info"])
    for logical_id in ("ApiServerErrorsAlarm", "ApiLatencyAlarm"):
        namespace, metric, dimensions = alarm_metric(stack, logical_id)
        assert namespace == "AWS/ApiGateway"
        assert metric in AWS_METRICS[namespace]
        assert dimensions == {"ApiName": api_name["title"]} == {"ApiName": STACK}


def test_function_alarms_watch_the_function(stack: Stack) -> None:
    for logical_id in ("FunctionErrorsAlarm", "FunctionThrottlesAlarm", "FunctionDurationAlarm"):
        raw = stack.cfn["Resources"][logical_id]["Properties"]["Dimensions"]
        assert raw == [{"Name": "FunctionName", "Value": {"Ref": "PredictFunction"}}]
        namespace, metric, _ = alarm_metric(stack, logical_id)
        assert namespace == "AWS/Lambda"
        assert metric in AWS_METRICS[namespace]


def test_endpoint_alarms_watch_the_endpoints_variant_on_the_metrics_deploy_looks_for() -> None:
    stack = Stack({"SageMakerEndpointName": "jp-live"})
    metrics = set()
    for logical_id in ENDPOINT_ALARMS:
        namespace, metric, dimensions = alarm_metric(stack, logical_id)
        assert namespace == "AWS/SageMaker"
        assert dimensions == {"EndpointName": "jp-live", "VariantName": VARIANT_NAME}
        metrics.add(metric)
    assert metrics == set(ENDPOINT_ALARM_METRICS)


@pytest.mark.parametrize("logical_id", ["ApiLatencyAlarm", "EndpointLatencyAlarm"])
def test_latency_alarms_use_the_p99(logical_id: str) -> None:
    properties = load_template()["Resources"][logical_id]["Properties"]
    assert properties["ExtendedStatistic"] == "p99"
    assert "Statistic" not in properties


def test_the_duration_alarm_fires_at_80_percent_of_the_functions_timeout() -> None:
    template = load_template()
    assert template["Globals"]["Function"]["Timeout"] == FUNCTION_TIMEOUT_SECONDS
    properties = template["Resources"]["FunctionDurationAlarm"]["Properties"]
    assert properties["Threshold"] == 0.8 * FUNCTION_TIMEOUT_SECONDS * 1000
    assert properties["Statistic"] == "Maximum"


def test_the_triage_share_alarm_counts_the_actions_the_function_emits(stack: Stack) -> None:
    namespace, service = powertools_settings()
    queries = stack.properties("TriageShareAlarm")["Metrics"]
    metrics = [q["MetricStat"]["Metric"] for q in queries if "MetricStat" in q]

    assert {m["MetricName"] for m in metrics} == {
        name for name in emitted_metric_names() if name.startswith("Action")
    }
    for metric in metrics:
        assert metric["Namespace"] == namespace
        assert metric["Dimensions"] == [{"Name": "service", "Value": service}]
    (returned,) = [q for q in queries if q.get("ReturnData")]
    assert returned["Expression"] == "IF(answers >= 20, FILL(triage, 0) / answers, 0)"


def dashboard(stack: Stack) -> dict[str, Any]:
    (logical_id,) = stack.resources("AWS::CloudWatch::Dashboard")
    body = stack.properties(logical_id)["DashboardBody"]
    document: dict[str, Any] = json.loads(body)
    return document


def metric_rows(document: dict[str, Any]) -> list[list[Any]]:
    return [
        row
        for widget in document["widgets"]
        if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
    ]


def test_the_dashboard_body_is_json_with_widgets(stack: Stack) -> None:
    document = dashboard(stack)

    assert document["widgets"]
    for widget in document["widgets"]:
        assert {"type", "x", "y", "width", "height", "properties"} <= set(widget)
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "us-east-1"


def test_the_dashboard_names_real_metrics_with_the_stacks_dimensions(stack: Stack) -> None:
    namespace, service = powertools_settings()
    emitted = emitted_metric_names()
    endpoint = stack.resolver.values["SageMakerEndpointName"]
    expected_dimensions = {
        "ApiName": STACK,
        "FunctionName": FUNCTION_NAME,
        "function_name": FUNCTION_NAME,
        "service": service,
        "EndpointName": endpoint,
        "VariantName": VARIANT_NAME,
    }
    shown: set[tuple[str, str]] = set()
    for row in metric_rows(dashboard(stack)):
        if isinstance(row[0], dict):  # an expression
            continue
        metric_namespace, name, *rest = row
        pairs = [value for value in rest if not isinstance(value, dict)]
        dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
        if metric_namespace == namespace:
            assert name in emitted
        else:
            assert name in AWS_METRICS[metric_namespace]
        assert dimensions
        assert all(expected_dimensions[key] == value for key, value in dimensions.items())
        shown.add((metric_namespace, name))
    assert {("AWS/ApiGateway", "Count"), ("AWS/ApiGateway", "4XXError"),
            ("AWS/ApiGateway", "5XXError"), ("AWS/ApiGateway", "Latency"),
            ("AWS/Lambda", "Duration"), (namespace, "ColdStart")} <= shown  # fmt: skip
    assert {(namespace, name) for name in emitted if name.startswith("Action")} <= shown
    endpoint_metrics = {m for m in shown if m[0] == "AWS/SageMaker"}
    backend = stack.resolver.values["PredictorBackend"]
    assert bool(endpoint_metrics) is (backend == "sagemaker")
    if endpoint_metrics:
        assert {("AWS/SageMaker", "ModelLatency"), ("AWS/SageMaker", "Invocations")} <= shown


def search_tokens(name: str) -> set[str]:
    """The tokens CloudWatch's SEARCH matches a one-word term against (whole, lower case).

    CloudWatch splits names at camel-case capitals and digits: ``SDBFailure`` gives
    ``sdbfailure``, ``sdb`` and ``failure`` (its search expression syntax page).
    """
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    return {name.lower(), *(part.lower() for part in parts)}


def test_search_tokens_split_like_cloudwatch() -> None:
    assert search_tokens("SDBFailure") == {"sdbfailure", "sdb", "failure"}
    assert search_tokens("CustomCount1") == {"customcount1", "custom", "count", "1"}
    assert "predict" not in search_tokens("PredictedMajor")


def test_the_dashboard_counts_answers_per_priority_by_their_metric_names(stack: Stack) -> None:
    namespace, _ = powertools_settings()
    expressions = [
        row[0]["expression"] for row in metric_rows(dashboard(stack)) if isinstance(row[0], dict)
    ]
    searches = [e for e in expressions if e.startswith("SEARCH(")]

    (search,) = searches
    match = re.fullmatch(r"SEARCH\('\{(\w+),service\} MetricName=(\w+)', 'Sum', 3600\)", search)
    assert match is not None
    assert match.group(1) == namespace
    term = match.group(2).lower()
    predicted = [name for name in emitted_metric_names() if term in search_tokens(name)]
    assert predicted == ["PredictedMajor"]


def test_the_dashboards_alarm_widget_shows_every_alarm_of_the_stack(stack: Stack) -> None:
    (widget,) = [w for w in dashboard(stack)["widgets"] if w["type"] == "alarm"]
    shown = set(widget["properties"]["alarms"])
    alarms = stack.resources("AWS::CloudWatch::Alarm")
    assert shown == {f"arn:aws:test:us-east-1:1:{logical_id}" for logical_id in alarms}


@pytest.mark.parametrize("deployment_type", ["Canary10Percent5Minutes", "AllAtOnce"])
def test_function_rollouts_go_through_codedeploy_and_roll_back_on_the_alarms(
    deployment_type: str,
) -> None:
    for parameters in BACKENDS.values():
        stack = Stack({**parameters, "DeploymentType": deployment_type})
        (group_id,) = stack.resources("AWS::CodeDeploy::DeploymentGroup")
        group = stack.cfn["Resources"][group_id]["Properties"]

        assert group["AlarmConfiguration"] == {
            "Enabled": True,
            "Alarms": [{"Name": {"Ref": alarm}} for alarm in ROLLBACK_ALARMS],
        }
        assert all(stack.created(alarm) for alarm in ROLLBACK_ALARMS)
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        assert stack.resolver.resolve(group["DeploymentConfigName"]) == (
            f"CodeDeployDefault.Lambda{deployment_type}"
        )
        alias = stack.cfn["Resources"]["PredictFunctionAliaslive"]
        assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"] == {
            "Ref": group_id
        }


def test_every_parameter_is_in_the_readmes_deploy_table() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| parameter | default | meaning |") :]
    table = table[: table.index("\n\n")]

    assert [name for name in load_template()["Parameters"] if f"`{name}`" not in table] == []
