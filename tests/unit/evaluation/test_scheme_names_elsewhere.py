"""Bulk scoring and API evaluation read answers in the model's scheme, not Apache's."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from training_jobs.data.readers import TicketRow
from training_jobs.errors import CommandError
from training_jobs.evaluation.scorers import HttpApiRanker, PredictionError
from training_jobs.sagemaker.transform import (
    parse_batch_output,
    post_processed,
    write_predictions,
)

from jira_priority.labels import JIRA_CLOUD


def test_batch_transform_output_is_named_in_the_scheme(tmp_path: Path) -> None:
    line = b'{"label": ["__label__4", "__label__5"], "prob": [0.3, 0.6]}\n'
    rankings = parse_batch_output(line, expected=1, k=2, scheme=JIRA_CLOUD)
    output = tmp_path / "scored.csv"

    write_predictions(
        output,
        [TicketRow("t", "", "High", key="ACME-1", row=1)],
        post_processed(rankings, 2, None),
        JIRA_CLOUD,
    )

    (row,) = list(csv.DictReader(output.open(encoding="utf-8")))
    assert (row["predicted_priority"], row["predicted_label"]) == ("Highest", "__label__5")
    assert row["ranking"] == "Highest:0.6000 High:0.3000"


def test_batch_transform_refuses_a_label_outside_the_scheme() -> None:
    with pytest.raises(CommandError, match="output line 1"):
        parse_batch_output(b'{"label": ["__label__6"], "prob": [0.9]}\n', 1, 1, JIRA_CLOUD)


class Answer(io.BytesIO):
    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


def api_answering(*priorities: str) -> Any:
    def opener(request: urllib.request.Request, timeout: float) -> Answer:
        ranking = [{"priority": p, "probability": 0.5} for p in priorities]
        prediction = {"priority": priorities[0], "ranking": ranking, "model": "m"}
        return Answer(json.dumps({"predictions": [prediction]}).encode())

    return opener


def test_the_api_ranker_reads_the_schemes_names() -> None:
    ranker = HttpApiRanker(
        "http://127.0.0.1:1", "key", opener=api_answering("High", "Medium"), scheme=JIRA_CLOUD
    )

    (ranking,) = ranker.rank([("title", "")], k=2)

    assert [p.value for p in ranking] == ["High", "Medium"]
    assert [p.rank for p in ranking] == [4, 3]


def test_the_api_ranker_refuses_names_outside_its_scheme() -> None:
    ranker = HttpApiRanker(
        "http://127.0.0.1:1", "key", opener=api_answering("Major"), scheme=JIRA_CLOUD
    )

    with pytest.raises(PredictionError, match="unreadable prediction"):
        ranker.rank([("title", "")], k=1)
