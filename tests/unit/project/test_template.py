"""template.yaml translated to CloudFormation by aws-sam-translator (no AWS call)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from training_jobs.local_api.gateway import (
    INVALID_API_KEY,
    MISSING_AUTHENTICATION_TOKEN,
    REQUEST_TOO_LARGE,
)

from jira_priority.settings import FUNCTION_TIMEOUT_SECONDS
from tests.support.sam_template import load_template
from tests.support.sam_template import sam_transform as translate


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return translate()


def resources_of(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == kind}


def test_every_method_requires_an_api_key(cfn: dict[str, Any]) -> None:
    (api,) = resources_of(cfn, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]
    assert set(paths) == {"/predict", "/health"}
    for methods in paths.values():
        for operation in methods.values():
            assert {"api_key": []} in operation["security"]


def test_usage_plan_throttles_and_caps_the_key(cfn: dict[str, Any]) -> None:
    (plan,) = resources_of(cfn, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"RateLimit": 10, "BurstLimit": 20}
    assert plan["Properties"]["Quota"] == {"Limit": 10000, "Period": "DAY"}
    assert len(resources_of(cfn, "AWS::ApiGateway::ApiKey")) == 1
    assert len(resources_of(cfn, "AWS::ApiGateway::UsagePlanKey")) == 1


def test_usage_plan_follows_the_parameters() -> None:
    cfn = translate({"ThrottlingRateLimit": "3", "ThrottlingBurstLimit": "6", "QuotaLimit": "99"})
    (plan,) = resources_of(cfn, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"RateLimit": "3", "BurstLimit": "6"}
    assert plan["Properties"]["Quota"] == {"Limit": "99", "Period": "DAY"}


def test_function_may_invoke_only_the_one_endpoint(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"]["PredictFunctionRole"]["Properties"]
    inline = [p["PolicyDocument"]["Statement"] for p in role["Policies"]]
    assert len(inline) == 1
    assert len(inline[0]) == 3
    assert inline[0][:2] == [  # each backend's one permission
        {
            "Fn::If": [
                "UseSageMaker",
                {
                    "Sid": "InvokeTheOneEndpoint",
                    "Effect": "Allow",
                    "Action": "sagemaker:InvokeEndpoint",
                    "Resource": {
                        "Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:"
                        "${AWS::AccountId}:endpoint/${SageMakerEndpointName}"
                    },
                },
                {"Ref": "AWS::NoValue"},
            ]
        },
        {
            "Fn::If": [
                "ReadsModel",
                {
                    "Sid": "ReadTheOneModel",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": {
                        "Fn::Sub": "arn:${AWS::Partition}:s3:::${ModelBucket}/${ModelKey}"
                    },
                },
                {"Ref": "AWS::NoValue"},
            ]
        },
    ]
    assert inline[0][2] == {
        "Fn::If": [
            "DecryptModel",
            {
                "Sid": "DecryptTheOneModel",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": {"Ref": "ModelKmsKeyArn"},
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}"}
                    }
                },
            },
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    ]


def test_endpoint_name_must_be_lower_case() -> None:
    parameters = load_template()["Parameters"]
    assert parameters["SageMakerEndpointName"]["AllowedPattern"] == "^[a-z0-9](-*[a-z0-9]){0,62}$"


def test_no_wildcard_resources(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"]["PredictFunctionRole"]["Properties"]
    assert '"*"' not in str(role["Policies"]).replace("'", '"')


def test_function_settings(cfn: dict[str, Any]) -> None:
    function = cfn["Resources"]["PredictFunction"]["Properties"]
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == "jira_priority.app.lambda_handler"
    assert function["Timeout"] == FUNCTION_TIMEOUT_SECONDS  # what the retry budget assumes
    assert function["Architectures"] == ["x86_64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["EphemeralStorage"] == {"Size": {"Ref": "EphemeralStorageSize"}}
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "PredictFunctionLogGroup"}}
    assert function["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "jira-priority",
        "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
        "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
        "POWERTOOLS_LOGGER_LOG_EVENT": "false",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "PYDANTIC_DISABLE_PLUGINS": "true",
        "PREDICTOR_BACKEND": {"Ref": "PredictorBackend"},
        "SAGEMAKER_ENDPOINT_NAME": {"Ref": "SageMakerEndpointName"},
        "PRIORITY_SCHEME": {"Ref": "PriorityScheme"},
        "TRACE_AWS_CALLS": {"Ref": "TraceAwsCalls"},
        "MODEL_URI": {"Fn::If": ["ReadsModel", {"Fn::Sub": "s3://${ModelBucket}/${ModelKey}"}, ""]},
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": "",
        "AWS_ENDPOINT_URL_S3": "",
    }


def test_log_group_has_retention(cfn: dict[str, Any]) -> None:
    group = cfn["Resources"]["PredictFunctionLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def test_outputs_are_described(cfn: dict[str, Any]) -> None:
    outputs = cfn["Outputs"]
    assert set(outputs) == {
        "PredictApiUrl",
        "ApiKeyId",
        "PredictFunctionArn",
        "AlarmTopicArn",
        "DashboardUrl",
    }
    assert all(output["Description"] for output in outputs.values())
    assert outputs["ApiKeyId"]["Value"] == {"Ref": "PriorityApiApiKey"}


def gateway_responses(cfn: dict[str, Any]) -> dict[str, Any]:
    (api,) = resources_of(cfn, "AWS::ApiGateway::RestApi").values()
    responses: dict[str, Any] = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    return responses


def rendered(template: str, response_type: str, message: str) -> Any:
    """What API Gateway sends: $context values substituted (messageString comes quoted)."""
    text = template.replace("$context.error.messageString", json.dumps(message))
    return json.loads(text.replace("$context.error.responseType", response_type))


@pytest.mark.parametrize(
    ("response_type", "message", "code"),
    [
        ("INVALID_API_KEY", "Forbidden", "invalid_api_key"),
        (
            "MISSING_AUTHENTICATION_TOKEN",
            "Missing Authentication Token",
            "missing_authentication_token",
        ),
        ("REQUEST_TOO_LARGE", "Request Too Long", "request_too_large"),
        ("THROTTLED", "Too Many Requests", "throttled"),
        ("QUOTA_EXCEEDED", "Limit Exceeded", "quota_exceeded"),
        ("INTEGRATION_TIMEOUT", "Endpoint request timed out", "upstream_timeout"),
        ("DEFAULT_4XX", "Unsupported Media Type", "DEFAULT_4XX"),
        ("DEFAULT_5XX", "Internal server error", "DEFAULT_5XX"),
    ],
)
def test_gateway_refusals_have_the_error_shape(
    cfn: dict[str, Any], response_type: str, message: str, code: str
) -> None:
    template = gateway_responses(cfn)[response_type]["responseTemplates"]["application/json"]
    assert rendered(template, response_type, message) == {
        "error": {"code": code, "message": message}
    }


def test_throttled_gateway_answers_say_when_to_retry(cfn: dict[str, Any]) -> None:
    headers = gateway_responses(cfn)["THROTTLED"]["responseParameters"]
    assert headers == {"gatewayresponse.header.Retry-After": "'1'"}


@pytest.mark.parametrize(
    "local", [INVALID_API_KEY, MISSING_AUTHENTICATION_TOKEN, REQUEST_TOO_LARGE]
)
def test_the_local_server_answers_like_the_gateway(cfn: dict[str, Any], local: Any) -> None:
    response_type = {
        "invalid_api_key": "INVALID_API_KEY",
        "missing_authentication_token": "MISSING_AUTHENTICATION_TOKEN",
        "request_too_large": "REQUEST_TOO_LARGE",
    }[local.code]
    template = gateway_responses(cfn)[response_type]["responseTemplates"]["application/json"]
    assert rendered(template, response_type, local.message)["error"]["code"] == local.code


def test_only_the_configured_stage_exists(cfn: dict[str, Any]) -> None:
    (deployment,) = resources_of(cfn, "AWS::ApiGateway::Deployment").values()
    assert "StageName" not in deployment["Properties"]
    (stage,) = resources_of(cfn, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == {"Ref": "Stage"}


def test_snapstart_is_off_by_default_and_applies_to_published_versions(
    cfn: dict[str, Any],
) -> None:
    resources = cfn["Resources"]
    assert cfn["Parameters"]["SnapStart"]["Default"] == "false"
    assert cfn["Conditions"]["UseSnapStart"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
    assert resources["PredictFunction"]["Properties"]["SnapStart"] == {
        "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
    }
    # SnapStart needs a published version called through an alias: API Gateway calls "live"
    versions = resources_of(cfn, "AWS::Lambda::Version")
    assert len(versions) == 1
    alias = resources["PredictFunctionAliaslive"]["Properties"]
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [next(iter(versions)), "Version"]}
    for permission in resources_of(cfn, "AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] == {"Ref": "PredictFunctionAliaslive"}
    # and at most 512 MB of /tmp
    rule = cfn["Rules"]["SnapStartNeedsSmallTmp"]
    assert rule["Assertions"][0]["Assert"] == {
        "Fn::Equals": [{"Ref": "EphemeralStorageSize"}, "512"]
    }
