"""``evaluate --api-url`` meets hostile answers: one clear error each, never a traceback.

The opener is injected (no network): it answers what a hostile or broken API would.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from training_jobs.cli import main
from training_jobs.evaluation import scorers
from training_jobs.evaluation.scorers import HttpApiRanker, PredictionError, RetryableError
from training_jobs.safe_http import UnsafeRequestError

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\r\nevaluate: forged line\u202e" + "B" * 10_000


class Answer(io.BytesIO):
    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


def answering(raw: bytes) -> Any:
    def opener(request: urllib.request.Request, timeout: float) -> Answer:
        return Answer(raw)

    return opener


def failing(status: int, raw: bytes, headers: dict[str, str] | None = None) -> Any:
    def opener(request: urllib.request.Request, timeout: float) -> Answer:
        message = Message()
        for name, value in (headers or {}).items():
            message[name] = value
        raise urllib.error.HTTPError(request.full_url, status, "x", message, io.BytesIO(raw))

    return opener


def rank(opener: Any) -> None:
    HttpApiRanker("http://127.0.0.1:1", "key", opener=opener).rank([("crash", "")], k=2)


def assert_one_safe_line(message: str) -> None:
    assert "\n" not in message
    assert "\r" not in message
    assert "\x1b" not in message
    assert len(message) < 600


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000, b'{"predictions": [' + b"[" * 100_000, b"[" * 600 + b"]" * 600],
    ids=["100k-deep", "deep-inside", "600-deep"],
)
def test_an_answer_nested_too_deep_is_a_prediction_error(raw: bytes) -> None:
    with pytest.raises(PredictionError, match="the API answered JSON nested more than 512"):
        rank(answering(raw))


@pytest.mark.parametrize("raw", [b"1" * 5000, b"\xff\xfe", b"<html>", b""])
def test_an_answer_that_is_not_json_is_a_prediction_error(raw: bytes) -> None:
    with pytest.raises(PredictionError, match="not JSON"):
        rank(answering(raw))


def test_an_error_body_nested_too_deep_is_ignored_not_a_traceback() -> None:
    with pytest.raises(RetryableError, match=r"^HTTP 503$"):
        rank(failing(503, b'{"error": ' + b"[" * 100_000))


def test_the_apis_error_message_is_shown_escaped_and_short() -> None:
    body = json.dumps({"error": {"code": "busy", "message": HOSTILE}}).encode()

    with pytest.raises(PredictionError) as error:
        rank(failing(400, body))

    message = str(error.value)
    assert message.startswith("HTTP 400 (busy: \\x1b]0;pwned\\x07\\x1b[2J\\r\\nevaluate: forged")
    assert_one_safe_line(message)


@pytest.mark.parametrize(
    "raw",
    [
        b'"\\u001b]0;pwned\\u0007' + b"C" * 10_000 + b'"',
        b'{"predictions": ["\\u001b[2J' + b"D" * 10_000 + b'"]}',
    ],
    ids=["a-string", "a-bad-prediction"],
)
def test_an_unreadable_answer_is_quoted_escaped_and_short(raw: bytes) -> None:
    with pytest.raises(PredictionError) as error:
        rank(answering(raw))

    assert_one_safe_line(str(error.value))


def test_an_answer_larger_than_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scorers, "MAX_ANSWER_BYTES", 1000)

    with pytest.raises(PredictionError, match="more than 0 MiB"):
        rank(answering(b" " * 2000 + b"{}"))


def test_the_command_prints_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "t.csv"
    source.write_text("title,description,priority\ncrash,,Major\n", encoding="utf-8")
    deep = answering(b"[" * 100_000)
    monkeypatch.setattr(
        scorers, "_safe_opener", lambda: type("O", (), {"open": staticmethod(deep)})()
    )

    code = main(["evaluate", str(source), "--api-url", "http://127.0.0.1:1", "--no-progress"])

    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        "evaluate: prediction failed: the API answered JSON nested more than 512 levels deep\n"
    )


# --- plain http ------------------------------------------------------------------------------


def test_a_key_over_plain_http_to_another_machine_is_refused() -> None:
    with pytest.raises(UnsafeRequestError, match="plain http to another machine"):
        HttpApiRanker("http://api.example.com/prod", "key")


def test_without_a_key_plain_http_is_fine() -> None:
    assert HttpApiRanker("http://api.example.com/prod", None).url == "http://api.example.com/prod"


def test_plain_http_allowed_explicitly_is_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    HttpApiRanker("http://api.example.com/prod", "key", allow_insecure_http=True)

    assert capsys.readouterr().err == (
        "warning: --allow-insecure-http: the credentials go to api.example.com in clear text\n"
    )


def test_the_command_refuses_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "t.csv"
    source.write_text("title,description,priority\ncrash,,Major\n", encoding="utf-8")

    code = main(["evaluate", str(source), "--api-url", "http://10.1.2.3", "--api-key", "k"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("evaluate: --api-url http://10.1.2.3 is plain http to another machine")
