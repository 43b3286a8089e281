"""The credential policy's rules: what counts as the same origin, and as this machine."""

from __future__ import annotations

import pytest
from training_jobs.safe_http import UnsafeRequestError, check_redirect, is_loopback, origin


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.atlassian.net/rest", ("https", "acme.atlassian.net", 443)),
        ("HTTPS://ACME.atlassian.net:443/", ("https", "acme.atlassian.net", 443)),
        ("http://127.0.0.1:8080/x", ("http", "127.0.0.1", 8080)),
        ("http://[::1]/", ("http", "::1", 80)),
        ("http://user:pw@host:81/", ("http", "host", 81)),
        ("ftp://host/", None),
        ("http://host:99999/", None),
        ("http://host:x/", None),
        ("http:///path", None),
    ],
)
def test_origin_is_scheme_host_and_explicit_port(
    url: str, expected: tuple[str, str, int] | None
) -> None:
    assert origin(url) == expected


@pytest.mark.parametrize(
    "location",
    [
        "/rest/api/3/search/jql?x=1",
        "other/path",
        "https://acme.atlassian.net:443/moved",
        "HTTPS://Acme.Atlassian.NET/moved",
    ],
)
def test_a_redirect_within_the_origin_is_allowed(location: str) -> None:
    check_redirect("https://acme.atlassian.net/rest/api/3/search/jql", location)


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/rest",  # another host
        "http://acme.atlassian.net/rest",  # another scheme (and port)
        "https://acme.atlassian.net:8443/rest",  # another port
        "//evil.example/rest",  # scheme-relative
        "https://acme.atlassian.net.evil.example/",  # a longer host
        "https://acme.atlassian.net@evil.example/",  # userinfo trick
        "https://acme.atlassian.net:bad/",  # no usable port
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_another_origin_is_refused(location: str) -> None:
    with pytest.raises(UnsafeRequestError, match="another origin: not followed"):
        check_redirect("https://acme.atlassian.net/rest/api/3/search/jql", location)


def test_the_refusal_shows_outside_text_escaped() -> None:
    with pytest.raises(UnsafeRequestError) as error:
        check_redirect("https://a.example/", "https://b.example/\x1b[2J" + "x" * 5000)

    assert "\x1b" not in str(error.value)
    assert len(str(error.value)) < 400


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("jira.example.com", False),
        ("", False),
    ],
)
def test_loopback_is_this_machine_only(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
