"""The settings the function gets under `sam local`, from template.yaml resolved like SAM CLI.

No container: tests/sam_template.py resolves the template the way SAM CLI 1.170
does (and fails where it fails), and the settings are loaded from the result.
"""

from __future__ import annotations

import boto3
import pytest

from jira_priority.settings import Settings, load_settings
from tests.support.sam_template import Resolver, Unresolved, function_environment, load_template


def settings_under_sam_local(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> Settings:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def test_sam_local_resolves_every_variable_of_the_sagemaker_backend() -> None:
    _, unresolved = function_environment()

    assert unresolved == []


def test_sam_local_resolves_every_variable_of_the_embedded_backend() -> None:
    _, unresolved = function_environment(
        {"PredictorBackend": "embedded", "ModelBucket": "models", "ModelKey": "jira/model.bin"}
    )

    assert unresolved == []


def test_sagemaker_backend_starts_with_the_template_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment, _ = function_environment()

    settings = settings_under_sam_local(monkeypatch, environment)

    assert settings.predictor_backend == "sagemaker"
    assert settings.sagemaker_endpoint_name == "jira-priority"
    assert settings.model_uri is None
    assert settings.log_level == "INFO"


def test_embedded_backend_starts_with_the_model_the_parameters_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment, _ = function_environment(
        {"PredictorBackend": "embedded", "ModelBucket": "models", "ModelKey": "jira/model.bin"}
    )

    settings = settings_under_sam_local(monkeypatch, environment)

    assert settings.predictor_backend == "embedded"
    assert settings.model_uri == "s3://models/jira/model.bin"


def test_env_vars_file_points_the_embedded_backend_at_a_local_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment, _ = function_environment(
        {"PredictorBackend": "embedded"},
        {"PredictFunction": {"MODEL_URI": "/var/task/local-model/model.bin"}},
    )

    settings = settings_under_sam_local(monkeypatch, environment)

    assert settings.model_uri == "/var/task/local-model/model.bin"


@pytest.mark.parametrize("name", ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", "AWS_ENDPOINT_URL_S3"])
def test_env_vars_file_can_point_boto3_at_a_stand_in(name: str) -> None:
    """--env-vars changes only what the template declares."""
    environment, _ = function_environment(
        env_vars={"Parameters": {name: "http://host.docker.internal:3811"}}
    )

    assert environment[name] == "http://host.docker.internal:3811"


def test_env_vars_file_cannot_add_an_undeclared_variable() -> None:
    environment, _ = function_environment(env_vars={"Parameters": {"NOT_IN_TEMPLATE": "x"}})

    assert "NOT_IN_TEMPLATE" not in environment


def test_the_declared_endpoint_variables_leave_boto3_on_aws_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment, _ = function_environment()
    assert environment["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] == ""
    assert environment["AWS_ENDPOINT_URL_S3"] == ""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    assert runtime.meta.endpoint_url == "https://runtime.sagemaker.us-east-1.amazonaws.com"
    assert s3.meta.endpoint_url == "https://s3.amazonaws.com"


def test_an_unresolvable_novalue_reaches_the_function_as_empty() -> None:
    """The SAM CLI behaviour the template works around, shown on the resolver itself."""
    resolver = Resolver(load_template(), {})
    with pytest.raises(Unresolved):
        resolver.resolve({"Fn::If": ["UseEmbedded", "s3://b/k", {"Ref": "AWS::NoValue"}]})
    assert resolver.resolve({"Fn::If": ["UseEmbedded", {"Fn::Sub": "s3://${ModelKey}"}, ""]}) == ""
