"""fetch without a network: the record written per issue, and where credentials come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_jobs.data.jira_fetch import (
    Credentials,
    FetchError,
    JiraApi,
    credentials_from_environment,
    issue_record,
)
from training_jobs.data.readers import read_tickets

from jira_priority.labels import JIRA_CLOUD


def cloud_issue() -> dict[str, object]:
    return {
        "id": "10001",
        "key": "ACME-7",
        "fields": {
            "summary": "Export fails",
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": "Steps:"}]},
                    {"type": "codeBlock", "content": [{"type": "text", "text": "NPE at x"}]},
                ],
            },
            "priority": {"name": "High", "id": "2"},
            "project": {"key": "ACME", "name": "Acme"},
            "issuetype": {"name": "Bug"},
            "status": {"name": "In Progress"},
            "created": "2026-03-04T05:06:07.000+0000",
        },
    }


def test_a_cloud_issue_becomes_the_flat_record_prepare_reads() -> None:
    assert issue_record(cloud_issue()) == {
        "key": "ACME-7",
        "summary": "Export fails",
        "description": "Steps: NPE at x",
        "priority": "High",
        "project": "ACME",
        "issuetype": "Bug",
        "status": "In Progress",
        "created": "2026-03-04T05:06:07.000+0000",
    }


def test_missing_and_null_fields_become_empty_text() -> None:
    record = issue_record({"key": "ACME-8", "fields": {"summary": "x", "priority": None}})

    assert record["priority"] == ""
    assert record["description"] == ""
    assert record["project"] == ""


def test_prepare_reads_what_fetch_writes(tmp_path: Path) -> None:
    path = tmp_path / "issues.jsonl"
    path.write_text(json.dumps(issue_record(cloud_issue())) + "\n")

    (ticket,) = read_tickets(path, scheme=JIRA_CLOUD)

    assert (ticket.key, ticket.title, ticket.project, ticket.issue_type) == (
        "ACME-7", "Export fails", "ACME", "Bug",
    )  # fmt: skip
    assert ticket.level(JIRA_CLOUD) is JIRA_CLOUD.priorities[3]


def test_a_rest_issue_with_an_adf_description_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "raw.jsonl"
    path.write_text(json.dumps(cloud_issue()) + "\n")

    (ticket,) = read_tickets(path, scheme=JIRA_CLOUD)

    assert ticket.description == "Steps: NPE at x"


def test_cloud_credentials_from_the_environment() -> None:
    credentials = credentials_from_environment(
        {"JIRA_EMAIL": "a@example.com", "JIRA_API_TOKEN": "t0ken"}, None
    )

    assert credentials == Credentials(JiraApi.CLOUD, "t0ken", "a@example.com")
    assert "t0ken" not in repr(credentials)


def test_a_pat_alone_means_data_center() -> None:
    credentials = credentials_from_environment({"JIRA_PAT": "p4t"}, None)

    assert (credentials.api, credentials.secret) == (JiraApi.DATA_CENTER, "p4t")


def test_a_missing_token_is_asked_for_when_a_terminal_is_attached() -> None:
    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        return "typed-token"

    credentials = credentials_from_environment(
        {"JIRA_EMAIL": "a@example.com"}, JiraApi.CLOUD, prompt
    )

    assert credentials.secret == "typed-token"
    assert asked == ["API token for a@example.com: "]


@pytest.mark.parametrize(
    ("environ", "api", "message"),
    [
        ({}, None, "no credentials: set JIRA_EMAIL and JIRA_API_TOKEN"),
        ({"JIRA_API_TOKEN": "t"}, None, "e-mail in JIRA_EMAIL"),
        ({"JIRA_EMAIL": "a@example.com"}, None, "API token in JIRA_API_TOKEN"),
        ({"JIRA_EMAIL": "a@example.com", "JIRA_API_TOKEN": "t"}, JiraApi.DATA_CENTER, "JIRA_PAT"),
    ],
)
def test_missing_credentials_name_the_variable(
    environ: dict[str, str], api: JiraApi | None, message: str
) -> None:
    with pytest.raises(FetchError, match=message):
        credentials_from_environment(environ, api)
