"""A five-priority (jira-cloud) model: post-processing fitted, packaged and applied per label."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from training_jobs.cli import main
from training_jobs.modelling.packaging import package_model

from jira_priority.classifier import PriorityClassifier
from jira_priority.labels import JIRA_CLOUD, SCHEME_FILE, Priority
from jira_priority.postprocessing import FILE_NAME
from jira_priority.predictors.embedded import EmbeddedPredictor
from jira_priority.schemas import Ticket
from tests.support.models import PROBES, synthetic_lines, write_lines

TINY = ["--vector-dim", "8", "--buckets", "1000", "--min-count", "1", "--word-ngrams", "1"]


def jira_cloud_lines(per_priority: int, seed: int) -> list[str]:
    # Trivial..Blocker lines (labels 2..6) become Lowest..Highest (labels 1..5).
    return [
        f"__label__{int(line[9]) - 1}{line[10:]}" for line in synthetic_lines(per_priority, seed)
    ]


def test_a_jira_cloud_model_is_post_processed_over_its_five_labels(tmp_path: Path) -> None:
    train = write_lines(tmp_path / "data" / "train.txt", jira_cloud_lines(40, seed=1))
    validation = write_lines(tmp_path / "data" / "validation.txt", jira_cloud_lines(10, seed=2))
    out = tmp_path / "model"

    code = main(
        [
            "train-local", "--train", str(train), "--validation", str(validation),
            "-o", str(out), "--min-validation-lines", "10", "--scheme", "jira-cloud", *TINY,
        ]
    )  # fmt: skip

    assert code == 0
    fitted = json.loads((out / FILE_NAME).read_text())
    assert sorted(fitted["labels"]) == sorted(JIRA_CLOUD.labels)
    assert json.loads((out / SCHEME_FILE).read_text())["name"] == "jira-cloud"

    archive = tmp_path / "model.tar.gz"
    members = package_model(out, archive)
    assert set(members) == {"model.bin", FILE_NAME, SCHEME_FILE}
    with tarfile.open(archive) as tar:
        assert set(tar.getnames()) == {"model.bin", FILE_NAME, SCHEME_FILE}

    classifier = PriorityClassifier(EmbeddedPredictor(str(archive)), max_batch_size=1)
    (prediction,) = classifier.classify([Ticket(text=PROBES[Priority.BLOCKER])], k=5)

    assert prediction.priority in JIRA_CLOUD.names
    assert prediction.calibrated_probability is not None
    assert isinstance(prediction.confident, bool)
    assert sorted(r.priority for r in prediction.ranking) == sorted(JIRA_CLOUD.names)
    total = sum(r.calibrated_probability or 0.0 for r in prediction.ranking)
    assert abs(total - 1.0) < 1e-4

    # calibrate (for a model trained elsewhere) keeps the scheme beside the model it copies.
    recalibrated = tmp_path / "recalibrated"
    assert main(["calibrate", "--model", str(archive), "--data", str(validation),
                 "-o", str(recalibrated)]) == 0  # fmt: skip
    assert json.loads((recalibrated / SCHEME_FILE).read_text())["name"] == "jira-cloud"
    assert sorted(json.loads((recalibrated / FILE_NAME).read_text())["labels"]) == sorted(
        JIRA_CLOUD.labels
    )
