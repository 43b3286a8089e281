"""PRIORITY_SCHEME: the names of a SageMaker endpoint's answers (an embedded model's default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jira_priority.errors import ConfigurationError
from jira_priority.labels import APACHE, JIRA_CLOUD
from jira_priority.predictors.embedded import EmbeddedPredictor
from jira_priority.predictors.sagemaker import SageMakerPredictor
from jira_priority.settings import load_settings
from tests.support.models import synthetic_lines, train_tiny_model


def test_the_default_is_apache() -> None:
    settings = load_settings()

    assert settings.priority_scheme == "apache"
    assert SageMakerPredictor.from_settings(settings).scheme() is APACHE


def test_a_built_in_scheme_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIORITY_SCHEME", "jira-cloud")

    assert SageMakerPredictor.from_settings(load_settings()).scheme() is JIRA_CLOUD


def test_a_sites_names_lowest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIORITY_SCHEME", "P4,P3,P2,P1")

    scheme = SageMakerPredictor.from_settings(load_settings()).scheme()

    assert scheme.from_label("__label__4").value == "P1"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("jira", "not a built-in scheme"),
        ("Low,low", "occurs twice"),
        ("/opt/scheme.json", r"not a built-in scheme \(apache, jira-cloud\) or a comma"),
    ],
)
def test_a_bad_scheme_stops_the_start_up(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("PRIORITY_SCHEME", value)

    with pytest.raises(ConfigurationError, match=f"PRIORITY_SCHEME: .*{problem}"):
        load_settings()


def test_an_embedded_model_without_scheme_json_uses_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lines = [f"__label__{int(line[9]) - 1}{line[10:]}" for line in synthetic_lines(20)]
    model = train_tiny_model(tmp_path, lines)
    monkeypatch.setenv("PREDICTOR_BACKEND", "embedded")
    monkeypatch.setenv("MODEL_URI", str(model))
    monkeypatch.setenv("PRIORITY_SCHEME", "jira-cloud")

    predictor = EmbeddedPredictor.from_settings(load_settings())

    assert predictor.scheme() is JIRA_CLOUD


def test_the_scheme_json_beside_an_embedded_model_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = train_tiny_model(tmp_path, synthetic_lines(20))
    APACHE.write(tmp_path)
    monkeypatch.setenv("PREDICTOR_BACKEND", "embedded")
    monkeypatch.setenv("MODEL_URI", str(model))
    monkeypatch.setenv("PRIORITY_SCHEME", "jira-cloud")

    assert EmbeddedPredictor.from_settings(load_settings()).scheme() is APACHE
