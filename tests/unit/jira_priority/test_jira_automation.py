"""What a Jira Automation rule sends and reads back, in the site's priority names.

The rule (README, "Set priorities from Jira") posts a Custom data body built
with smart values and reads ``{{webhookResponse.body.priority}}``,
``{{webhookResponse.body.confident}}`` (or ``calibrated_probability``) and
``{{webhookResponse.body.ranking}}``.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from jira_priority import app as handler
from jira_priority.classifier import PriorityClassifier
from jira_priority.labels import JIRA_CLOUD, Priority
from jira_priority.predictors.embedded import EmbeddedPredictor
from jira_priority.predictors.sagemaker import SageMakerPredictor
from jira_priority.schemas import Ticket
from tests.support.events import TEST_ENDPOINT, load_event
from tests.support.models import PROBES, synthetic_lines, train_tiny_model
from tests.unit.jira_priority.test_events import queue_endpoint_answers


def invoke(event: dict[str, Any], context: Any) -> tuple[int, Any]:
    response = handler.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def jira_cloud_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The sagemaker backend configured with PRIORITY_SCHEME=jira-cloud."""
    with mock_aws():
        client = boto3.client("sagemaker-runtime")
        predictor = SageMakerPredictor(TEST_ENDPOINT, client, JIRA_CLOUD)
        monkeypatch.setattr(handler.classifier, "predictor", predictor)
        yield


def test_the_rules_exact_body_is_answered_in_the_sites_names(
    jira_cloud_endpoint: None, lambda_context: Any
) -> None:
    queue_endpoint_answers(
        [{"label": ["__label__4", "__label__3", "__label__5"], "prob": [0.82, 0.11, 0.04]}]
    )

    status, body = invoke(load_event("predict-jira-automation"), lambda_context)

    assert status == HTTPStatus.OK
    # Everything the rule reads, in one object: the name to set, the flag or number to
    # compare, the list (no post-processing configured here: the calibrated fields are null).
    assert body == {
        "priority": "High",
        "label": "__label__4",
        "probability": 0.82,
        "calibrated_probability": None,
        "confident": None,
        "action": None,
        "urgency": None,
        "ranking": [
            {"priority": "High", "probability": 0.82, "calibrated_probability": None},
            {"priority": "Medium", "probability": 0.11, "calibrated_probability": None},
            {"priority": "Highest", "probability": 0.04, "calibrated_probability": None},
        ],
        "model": TEST_ENDPOINT,
    }


def test_the_issue_data_jira_format_body_is_accepted_too(
    jira_cloud_endpoint: None, lambda_context: Any
) -> None:
    # "Web request body: Issue data (Jira format)": the issue under "issue", REST v2 shape.
    event = load_event("predict-jira-automation")
    event["body"] = json.dumps(
        {
            "issue": {
                "self": "https://acme.atlassian.net/rest/api/2/issue/11111",
                "id": 11111,
                "key": "ACME-53",
                "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": None},
                "fields": {
                    "summary": "Export to PDF fails for project admins",
                    "description": "h3. Steps\n# Open a board\n# Export",
                    "priority": {"name": "Medium", "id": "3"},
                    "issuetype": {"name": "Bug", "subtask": False},
                    "customfield_10030": None,
                },
            }
        }
    )
    queue_endpoint_answers([{"label": ["__label__5"], "prob": [0.9]}])

    status, body = invoke(event, lambda_context)

    assert status == HTTPStatus.OK
    assert (body["priority"], body["probability"]) == ("Highest", 0.9)


def test_an_embedded_jira_cloud_model_answers_in_its_schemes_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    # Trivial..Blocker lines (labels 2..6) become Lowest..Highest (labels 1..5).
    lines = [f"__label__{int(line[9]) - 1}{line[10:]}" for line in synthetic_lines(40)]
    model = train_tiny_model(tmp_path, lines)
    JIRA_CLOUD.write(tmp_path)
    monkeypatch.setattr(handler.classifier, "predictor", EmbeddedPredictor(str(model)))
    event = load_event("predict-jira-automation")
    event["body"] = json.dumps({"title": PROBES[Priority.BLOCKER], "description": "", "k": 2})

    status, body = invoke(event, lambda_context)

    assert status == HTTPStatus.OK
    assert body["priority"] == "Highest"
    assert body["label"] == "__label__5"
    assert [entry["priority"] for entry in body["ranking"]][:1] == ["Highest"]


@mock_aws
def test_a_jira_cloud_model_archive_from_s3_answers_in_its_names(tmp_path: Path) -> None:
    lines = [f"__label__{int(line[9]) - 1}{line[10:]}" for line in synthetic_lines(40)]
    model = train_tiny_model(tmp_path, lines)
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(model, arcname="model.bin")
        tar.add(JIRA_CLOUD.write(tmp_path), arcname="scheme.json")
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="models")
    client.put_object(Bucket="models", Key="acme/model.tar.gz", Body=archive.read_bytes())
    predictor = EmbeddedPredictor("s3://models/acme/model.tar.gz", s3_client=client)
    classifier = PriorityClassifier(predictor, max_batch_size=1)

    (prediction,) = classifier.classify([Ticket(text=PROBES[Priority.CRITICAL])], k=2)

    assert (prediction.priority, prediction.label) == ("High", "__label__4")
