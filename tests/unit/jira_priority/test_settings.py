from __future__ import annotations

import pytest

from jira_priority.errors import ConfigurationError
from jira_priority.settings import (
    API_GATEWAY_TIMEOUT_SECONDS,
    FUNCTION_TIMEOUT_SECONDS,
    Settings,
    load_settings,
)


def test_defaults_fit_inside_api_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.predictor_backend == "sagemaker"
    assert settings.max_body_bytes == 1_048_576
    assert settings.max_batch_size == 25
    # Two attempts of (2 s connect + 8 s read) plus 1 s backoff: 21 s, under the
    # function's 25 s timeout (template.yaml), itself under API Gateway's 29 s.
    assert settings.sagemaker_worst_case_seconds == 21.0
    assert settings.sagemaker_worst_case_seconds < FUNCTION_TIMEOUT_SECONDS
    assert FUNCTION_TIMEOUT_SECONDS < API_GATEWAY_TIMEOUT_SECONDS


def test_sagemaker_backend_needs_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAGEMAKER_ENDPOINT_NAME")
    with pytest.raises(ConfigurationError, match="needs SAGEMAKER_ENDPOINT_NAME"):
        load_settings()


def test_embedded_backend_needs_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREDICTOR_BACKEND", "embedded")
    with pytest.raises(ConfigurationError, match="needs MODEL_URI"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("PREDICTOR_BACKEND", "pytorch", "PREDICTOR_BACKEND"),
        ("MAX_BODY_BYTES", "10", "MAX_BODY_BYTES"),
        ("MAX_BATCH_SIZE", "0", "MAX_BATCH_SIZE"),
        ("SAGEMAKER_ENDPOINT_NAME", "bad_name!", "SAGEMAKER_ENDPOINT_NAME"),
        ("POWERTOOLS_LOG_LEVEL", "LOUD", "POWERTOOLS_LOG_LEVEL"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=problem):
        load_settings()


def test_retry_budget_over_the_function_timeout_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 2 x (2 + 11) + 1 = 27 s: under API Gateway's 29 s, but the function stops at 25 s.
    monkeypatch.setenv("SAGEMAKER_READ_TIMEOUT_SECONDS", "11")
    with pytest.raises(ConfigurationError, match="over the 23 s the function's 25 s timeout"):
        load_settings()


def test_variable_names_are_case_insensitive() -> None:
    settings = Settings.from_environ(
        {"predictor_backend": "sagemaker", "Sagemaker_Endpoint_Name": "jira", "MAX_BATCH_SIZE": "7"}
    )
    assert (settings.sagemaker_endpoint_name, settings.max_batch_size) == ("jira", 7)


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BATCH_SIZE", "7")
    settings = Settings.from_environ(predictor_backend="embedded", model_uri="model.bin")
    assert (settings.predictor_backend, settings.max_batch_size) == ("embedded", 7)


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"


def test_settings_are_immutable() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.max_batch_size = 3  # type: ignore[misc]


def test_an_empty_model_uri_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """template.yaml sets MODEL_URI to "" for the sagemaker backend."""
    monkeypatch.setenv("MODEL_URI", "")
    assert load_settings().model_uri is None


def test_embedded_backend_refuses_an_empty_model_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREDICTOR_BACKEND", "embedded")
    monkeypatch.setenv("MODEL_URI", "")
    with pytest.raises(ConfigurationError, match="needs MODEL_URI"):
        load_settings()
