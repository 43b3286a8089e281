"""Sidecars that do not fit their model, and archives that hide or repeat them (issue 18).

A postprocessing.json over other labels than the model's (one label too many: every
ticket was answered Optional; one too few: ``/health`` said ready and every
``/predict`` answered 502), a 400-digit number in it (OverflowError: a traceback in
the commands, a 500 and a reload per request in the Lambda), a linked or repeated
member of a model.tar.gz, an archive of 100,000 members: each is refused at load,
with one line, and the Lambda answers 503 and backs off.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from training_jobs.cli import main
from training_jobs.local_api.function import FunctionLoadError, load_function

from jira_priority import app as handler
from jira_priority import model_files
from jira_priority.errors import UpstreamUnavailableError
from jira_priority.labels import DEFAULT_SCHEME, LABELS, SCHEME_FILE
from jira_priority.model_files import MAX_ARCHIVE_MEMBERS, ModelFileError, read_sidecar
from jira_priority.postprocessing import FILE_NAME, PostProcessing, PostProcessingError
from jira_priority.predictors import embedded
from jira_priority.predictors.embedded import EmbeddedPredictor, ModelLoadError
from jira_priority.predictors.sagemaker import SageMakerPredictor
from tests.support.damaged import (
    huge_integer_postprocessing,
    many_empty_members,
    postprocessing_text,
    tar_gz,
    write_model_dir,
)
from tests.support.events import load_event

pytestmark = pytest.mark.usefixtures("fresh_model_cache")

#: The tiny model's labels: five priorities, no Optional (__label__1).
MODEL_LABELS = LABELS[1:]

SIDECARS: dict[str, tuple[str, str]] = {
    # case -> (postprocessing.json, what the one line says)
    "a label the model lacks": (
        postprocessing_text(LABELS),
        f"{FILE_NAME} does not fit the model: it has __label__1, which the model lacks",
    ),
    "one label missing": (
        postprocessing_text(MODEL_LABELS[:-1]),
        f"{FILE_NAME} does not fit the model: it lacks the model's __label__6",
    ),
    "a 400-digit number": (
        huge_integer_postprocessing(MODEL_LABELS),
        f"{FILE_NAME} lacks a field or has a wrong type",
    ),
}


@pytest.fixture
def model_bytes(model_path: Path) -> bytes:
    return model_path.read_bytes()


@pytest.fixture
def fasttext_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every model file handed to fastText."""
    loads: list[str] = []
    real = embedded._import_fasttext

    class Recording:
        @staticmethod
        def load_model(path: str) -> Any:
            loads.append(path)
            return real().load_model(path)

    monkeypatch.setattr(embedded, "_import_fasttext", Recording)
    return loads


# --- the file itself ----------------------------------------------------------------


def test_a_400_digit_number_is_a_postprocessing_error() -> None:
    with pytest.raises(PostProcessingError, match="wrong type"):
        PostProcessing.from_json(huge_integer_postprocessing(MODEL_LABELS))


# --- refused at load, by every command and the Lambda ------------------------------------


@pytest.mark.parametrize("case", SIDECARS)
def test_the_embedded_backend_refuses_a_sidecar_that_does_not_fit(
    case: str, model_bytes: bytes, tmp_path: Path, fasttext_loads: list[str]
) -> None:
    sidecar, reason = SIDECARS[case]
    model = write_model_dir(tmp_path / "model", model_bytes, {FILE_NAME: sidecar})
    predictor = EmbeddedPredictor(str(model))

    with pytest.raises(ModelLoadError) as caught:
        predictor.load()

    assert str(caught.value).startswith(f"cannot load the model {model}: {reason}")
    assert not predictor.is_ready()
    assert fasttext_loads == []  # refused before fastText loads the model


@pytest.mark.parametrize("case", SIDECARS)
def test_classify_refuses_a_sidecar_that_does_not_fit_in_one_line(
    case: str, model_bytes: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar, reason = SIDECARS[case]
    model = write_model_dir(tmp_path / "model", model_bytes, {FILE_NAME: sidecar})

    code = main(["classify", "--model", str(model), "the server crashes"])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith(f"classify: cannot load the model {model}: {reason}")
    assert captured.err.count("\n") == 1


@pytest.mark.parametrize("case", SIDECARS)
def test_serve_does_not_start_on_a_sidecar_that_does_not_fit(
    case: str, model_bytes: bytes, tmp_path: Path
) -> None:
    sidecar, reason = SIDECARS[case]
    model = write_model_dir(tmp_path / "model", model_bytes, {FILE_NAME: sidecar})

    with pytest.raises(FunctionLoadError) as caught:
        load_function(str(model), timeout=5.0)

    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("case", SIDECARS)
def test_promote_refuses_a_candidate_whose_sidecar_does_not_fit(
    case: str,
    model_bytes: bytes,
    model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sidecar, reason = SIDECARS[case]
    candidate = write_model_dir(tmp_path / "candidate", model_bytes, {FILE_NAME: sidecar})
    live = write_model_dir(tmp_path / "live", model_bytes)
    held_out = tmp_path / "held-out.txt"
    held_out.write_text("__label__6 crash outage the server\n", encoding="utf-8")

    code = main(["promote", "--candidate", str(candidate), "--live", str(live),
                 "--held-out", str(held_out)])  # fmt: skip

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"promote: cannot score {candidate}: ")
    assert reason in err
    assert err.count("\n") == 1
    assert not (live / FILE_NAME).exists()


@pytest.mark.parametrize("case", SIDECARS)
def test_the_lambda_answers_503_and_backs_off_on_a_sidecar_that_does_not_fit(
    case: str,
    model_bytes: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: Any,
) -> None:
    sidecar, _ = SIDECARS[case]
    model = write_model_dir(tmp_path / "model", model_bytes, {FILE_NAME: sidecar})
    reads: list[str] = []
    real_read = model_files.read_sidecar

    def counting_read(source: Path, name: str, max_bytes: int) -> bytes | None:
        reads.append(name)
        return real_read(source, name, max_bytes)

    monkeypatch.setattr(model_files, "read_sidecar", counting_read)
    monkeypatch.setattr(handler.classifier, "predictor", EmbeddedPredictor(str(model)))

    health = handler.lambda_handler(load_event("health"), lambda_context)
    read_at_load = len(reads)
    answers = [handler.lambda_handler(load_event("predict-text"), lambda_context) for _ in "abc"]

    assert health["statusCode"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(health["body"])["ready"] is False
    for answer in answers:
        assert answer["statusCode"] == HTTPStatus.SERVICE_UNAVAILABLE
        assert json.loads(answer["body"])["error"]["code"] == "upstream_unavailable"
    assert FILE_NAME in reads
    assert len(reads) == read_at_load  # not read again for each request: the back-off holds


def test_a_postprocessing_json_over_the_models_labels_loads(
    model_bytes: bytes, tmp_path: Path
) -> None:
    model = write_model_dir(
        tmp_path / "model", model_bytes, {FILE_NAME: postprocessing_text(MODEL_LABELS)}
    )
    predictor = EmbeddedPredictor(str(model))

    predictor.load()

    assert predictor.postprocessing() is not None


def test_a_scheme_without_a_name_for_one_of_the_models_labels_is_refused(
    model_bytes: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The model answers __label__6; a scheme of five names has no name for it.
    scheme = {"name": "five", "priorities": ["A", "B", "C", "D", "E"]}
    model = write_model_dir(tmp_path / "model", model_bytes, {SCHEME_FILE: json.dumps(scheme)})

    assert main(["classify", "--model", str(model), "the server crashes"]) == 1

    err = capsys.readouterr().err
    assert err.endswith("labels outside __label__1..__label__5: __label__6\n")
    assert err.count("\n") == 1


# --- archives: members bounded, links and repeats refused ------------------------------


def archive_of(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "model.tar.gz"
    path.write_bytes(data)
    return path


def test_an_archive_of_too_many_members_is_refused_after_the_bound(
    model_bytes: bytes, tmp_path: Path
) -> None:
    # 100,000 empty members took 12.6 s to look through; the model comes last here
    members = [*many_empty_members(MAX_ARCHIVE_MEMBERS), ("model.bin", model_bytes)]
    archive = archive_of(tmp_path, tar_gz(members))

    with pytest.raises(ModelLoadError, match=f"holds more than {MAX_ARCHIVE_MEMBERS} members"):
        EmbeddedPredictor(str(archive)).load()


def test_an_archive_of_as_many_members_as_the_bound_loads(
    model_bytes: bytes, tmp_path: Path
) -> None:
    members = [*many_empty_members(MAX_ARCHIVE_MEMBERS - 1), ("model.bin", model_bytes)]

    EmbeddedPredictor(str(archive_of(tmp_path, tar_gz(members)))).load()


@pytest.mark.parametrize("name", [FILE_NAME, SCHEME_FILE, "model.bin"])
def test_a_linked_member_we_read_is_refused_not_skipped(
    name: str, model_bytes: bytes, tmp_path: Path
) -> None:
    # A linked postprocessing.json was skipped: the answers went out uncalibrated.
    members = [("model.bin", model_bytes)] if name != "model.bin" else [("m.ftz", model_bytes)]
    archive = archive_of(tmp_path, tar_gz(members, links={name: "elsewhere/" + name}))

    with pytest.raises(ModelLoadError, match=f"{name} is a link"):
        EmbeddedPredictor(str(archive)).load()


@pytest.mark.parametrize("name", [FILE_NAME, SCHEME_FILE, "model.bin"])
def test_an_archive_with_a_member_we_read_twice_is_refused(
    name: str, model_bytes: bytes, tmp_path: Path
) -> None:
    # The model took the last copy and the sidecars the first: refuse rather than choose.
    sidecar = {FILE_NAME: postprocessing_text(MODEL_LABELS), SCHEME_FILE: '{"name": "apache"}'}
    first = [("model.bin", model_bytes)]
    twice = [(name, model_bytes)] if name == "model.bin" else [(name, sidecar[name].encode())] * 2
    archive = archive_of(tmp_path, tar_gz([*first, *twice]))

    with pytest.raises(ModelLoadError, match=f"holds {name} twice"):
        EmbeddedPredictor(str(archive)).load()


def test_the_same_name_in_two_folders_of_an_archive_is_refused(
    model_bytes: bytes, tmp_path: Path
) -> None:
    archive = archive_of(tmp_path, tar_gz([("a/model.bin", model_bytes), ("b/model.bin", b"x")]))

    with pytest.raises(ModelFileError, match=r"holds model\.bin twice"):
        read_sidecar(archive, FILE_NAME, 1000)


def test_a_dangling_postprocessing_link_beside_the_model_is_refused(
    model_bytes: bytes, tmp_path: Path
) -> None:
    model = write_model_dir(tmp_path / "model", model_bytes)
    (model / FILE_NAME).symlink_to(tmp_path / "gone.json")

    with pytest.raises(ModelLoadError, match=f"{FILE_NAME} beside the model is not a readable"):
        EmbeddedPredictor(str(model)).load()


def test_a_linked_postprocessing_json_beside_the_model_is_followed(
    model_bytes: bytes, tmp_path: Path
) -> None:
    # On the user's own disk a link is theirs to make (not so inside an archive).
    real = tmp_path / "fitted.json"
    real.write_text(postprocessing_text(MODEL_LABELS), encoding="utf-8")
    model = write_model_dir(tmp_path / "model", model_bytes)
    (model / FILE_NAME).symlink_to(real)
    predictor = EmbeddedPredictor(str(model))

    predictor.load()

    assert predictor.postprocessing() is not None


def test_a_damaged_archive_keeps_the_lambdas_back_off(model_bytes: bytes, tmp_path: Path) -> None:
    archive = archive_of(tmp_path, tar_gz([("model.bin", model_bytes)] * 2))
    predictor = EmbeddedPredictor(str(archive))

    for _ in range(2):
        with pytest.raises(UpstreamUnavailableError) as caught:
            predictor.predict(["crash"], k=1)
        assert caught.value.retry_after is not None


def test_the_sagemaker_backend_refuses_a_postprocessing_json_outside_its_scheme(
    tmp_path: Path,
) -> None:
    # The endpoint cannot say which labels its model has; the scheme names all it may answer.
    (tmp_path / FILE_NAME).write_text(
        postprocessing_text(["__label__5", "__label__6", "__label__7"]), encoding="utf-8"
    )
    predictor = SageMakerPredictor(
        "jira-priority", client=MagicMock(), scheme=DEFAULT_SCHEME, model_uri=str(tmp_path)
    )

    with pytest.raises(UpstreamUnavailableError) as first:
        predictor.postprocessing()
    with pytest.raises(UpstreamUnavailableError) as again:  # backs off, does not read again
        predictor.postprocessing()

    assert isinstance(first.value.__cause__, PostProcessingError)
    assert "__label__7" in str(first.value.__cause__)
    assert again.value.retry_after is not None
