"""``serve --api-key``: a key HTTP clients cannot all send alike is refused at start-up."""

from __future__ import annotations

import pytest
from training_jobs.cli import main
from training_jobs.local_api.options import ServeOptions

UNSENDABLE = {
    "non-ascii": "clé-secrète-du-service",
    "cyrillic": "ключ-доступа-к-сервису",
    "space": "two words",
    "leading-space": " padded-key",
    "newline": "key\nX-Injected: 1",
    "control": "key\x1b[31m",
    "undecodable-environment-byte": "key\udcff",
}


@pytest.mark.parametrize("key", UNSENDABLE.values(), ids=UNSENDABLE.keys())
def test_a_key_outside_visible_ascii_is_a_problem(key: str) -> None:
    problems = ServeOptions(model="m", api_key=key).problems()

    assert problems == [
        "the API key must be visible ASCII characters (! to ~, no spaces): "
        "HTTP clients send other characters in a header in different ways"
    ]


@pytest.mark.parametrize("key", ["local-test-key", "Zx9!~#$%&'*+-.^_`|", "a" * 128])
def test_a_visible_ascii_key_is_accepted(key: str) -> None:
    assert ServeOptions(model="m", api_key=key).problems() == []


@pytest.mark.parametrize("where", ["option", "environment"])
def test_serve_refuses_a_non_ascii_key_in_one_line_without_echoing_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    key = UNSENDABLE["non-ascii"]
    argv = ["serve", "--model", "/nonexistent/model.bin", "--port", "0"]
    if where == "option":
        argv += ["--api-key", key]
    else:
        monkeypatch.setenv("JIRA_PRIORITY_API_KEY", key)
    capsys.readouterr()

    code = main(argv)

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("serve: the API key must be visible ASCII")
    assert key not in err


def test_a_client_sending_other_bytes_for_an_ascii_key_is_refused_not_crashed() -> None:
    from training_jobs.local_api.gateway import key_accepted

    assert key_accepted("local-test-key", b"local-test-key")
    assert not key_accepted("local-test-key", "clé".encode())
    assert not key_accepted("local-test-key", b"\xff\xfe")
    assert not key_accepted("local-test-key", None)
    assert key_accepted(None, None)
