"""Both backends give the same post-processed answers for the same model.

One tiny fastText model with a fitted postprocessing.json, packaged as the
model.tar.gz a BlazingText endpoint loads: the embedded backend loads the
archive; the SageMaker backend calls a fake endpoint on 127.0.0.1 that answers
from the same model.bin, and reads postprocessing.json from the same archive
(MODEL_URI).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import fasttext
import pytest
from training_jobs.modelling import postprocessing as fitting
from training_jobs.modelling.packaging import package_model

from jira_priority.classifier import PriorityClassifier
from jira_priority.labels import Priority
from jira_priority.postprocessing import FILE_NAME
from jira_priority.predictors.embedded import EmbeddedPredictor
from jira_priority.predictors.sagemaker import SageMakerPredictor
from jira_priority.schemas import Ticket
from tests.fakes.blazingtext_endpoint import running_fake_endpoint
from tests.support.models import PROBES, synthetic_lines, train_tiny_model

pytestmark = pytest.mark.integration

TICKETS = [
    Ticket(title=PROBES[Priority.BLOCKER]),
    Ticket(title="cosmetic typo", description="the server hangs after upgrade"),
    Ticket(text="query option ignored when the client reconnects"),
    Ticket(title="unrelated words entirely"),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("model")
    model_path = train_tiny_model(directory)
    model = fasttext.load_model(str(model_path))
    calibration = [line.split(" ", 1) for line in synthetic_lines(per_priority=20, seed=7)]
    labels = [str(label) for label in model.get_labels()]
    fitted = fitting.fit(
        fitting.probability_matrix(model, [text for _, text in calibration], labels),
        [label for label, _ in calibration],
        labels,
        {label: 60 * (3 if label == Priority.MAJOR.label else 1) for label in labels},
        target_precision=0.9,
    )
    assert fitted.postprocessing.top_label_map is not None  # the answers go through it
    (directory / FILE_NAME).write_text(fitted.postprocessing.to_json(), encoding="utf-8")
    package_model(model_path, directory / "model.tar.gz")
    return directory / "model.tar.gz"


def endpoint_answers(model_path: Path) -> Any:
    model = fasttext.load_model(str(model_path))

    def answer(texts: Sequence[str], k: int) -> list[dict[str, Any]]:
        result = []
        for text in texts:
            labels, probs = model.predict(text, k=k)
            result.append({"label": list(labels), "prob": [float(p) for p in probs]})
        return result

    return answer


@pytest.mark.parametrize("k", [1, 3])
def test_embedded_and_sagemaker_answer_the_same(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    embedded = PriorityClassifier(EmbeddedPredictor(str(archive)), max_batch_size=25)
    model_bin = archive.parent / "model.bin"
    with running_fake_endpoint(endpoint_answers(model_bin)) as fake:
        client = boto3.client(
            "sagemaker-runtime",
            endpoint_url=fake.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        remote = PriorityClassifier(
            SageMakerPredictor("jira-priority", client, model_uri=str(archive)), max_batch_size=25
        )
        over_http = remote.classify(TICKETS, k=k, batch=True)
    in_process = embedded.classify(TICKETS, k=k, batch=True)

    def comparable(predictions: list[Any]) -> list[dict[str, Any]]:
        return [p.model_dump(exclude={"model"}) for p in predictions]

    assert comparable(over_http) == comparable(in_process)
    assert all(len(p.ranking) == k for p in in_process)
    assert all(p.calibrated_probability is not None for p in in_process)
    assert all(p.confident is not None for p in in_process)
