"""Reading tickets from every input layout, with bad rows counted, never fatal."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from training_jobs.data.readers import (
    DatasetError,
    Layout,
    ReadStats,
    RejectReason,
    TicketRow,
    read_prepared,
    read_tickets,
)

from jira_priority.labels import Priority

TUTORIAL_HEADER = [
    "id", "created", "description", "key", "priority", "project", "project_name",
    "repositoryname", "resolution", "resolved", "status", "title", "type", "updated",
    "votes", "watchers", "assignee_id", "reporter_id",
]  # fmt: skip


def tutorial_row(**values: str) -> list[str]:
    row = dict.fromkeys(TUTORIAL_HEADER, "")
    row.update(values)
    return [row[name] for name in TUTORIAL_HEADER]


def write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = False) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def read_all(path: Path, **options: Any) -> tuple[list[TicketRow], ReadStats]:
    stats = ReadStats()
    tickets = list(read_tickets(path, stats=stats, **options))
    return tickets, stats


def test_tutorial_csv_keeps_newlines_commas_and_quotes_inside_fields(tmp_path: Path) -> None:
    description = 'Fails with "NPE", then\nretries,\r\nforever'
    path = write_csv(
        tmp_path / "bugs.csv",
        TUTORIAL_HEADER,
        [
            tutorial_row(
                title="Crash, on start", description=description, priority="Major",
                project="HDFS", key="HDFS-1", status="Open", type="Bug",
            )
        ],
    )  # fmt: skip

    tickets, stats = read_all(path)

    assert stats.layout is Layout.TUTORIAL_CSV
    (ticket,) = tickets
    assert ticket.title == "Crash, on start"
    assert ticket.description == description
    assert (ticket.project, ticket.key, ticket.status, ticket.issue_type) == (
        "HDFS", "HDFS-1", "Open", "Bug",
    )  # fmt: skip
    assert ticket.known_priority is Priority.MAJOR


def test_every_valid_row_is_read_including_the_first(tmp_path: Path) -> None:
    rows = [tutorial_row(title=f"ticket {n}", priority="Minor") for n in range(1, 8)]
    path = write_csv(tmp_path / "bugs.csv", TUTORIAL_HEADER, rows)

    tickets, stats = read_all(path)

    assert [t.title for t in tickets] == [f"ticket {n}" for n in range(1, 8)]
    assert (stats.rows_read, stats.rows_accepted, stats.rows_rejected) == (7, 7, 0)
    assert [t.row for t in tickets] == list(range(1, 8))


def test_empty_description_is_a_valid_ticket(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bugs.csv", TUTORIAL_HEADER, [tutorial_row(title="Typo", priority="Trivial")]
    )

    (ticket,), _ = read_all(path)

    assert ticket.description == ""
    assert ticket.label == "__label__2"


def test_bad_rows_are_counted_by_reason_with_their_row_numbers(tmp_path: Path) -> None:
    rows = [
        tutorial_row(title="good", priority="Major"),
        tutorial_row(title="no priority", priority=""),
        tutorial_row(title="odd priority", priority="Urgent"),
        tutorial_row(title="", description="", priority="Minor"),
        tutorial_row(title="!!! ...", description="--", priority="Minor"),
        tutorial_row(title="also good", priority=" blocker "),
    ]
    path = write_csv(tmp_path / "bugs.csv", TUTORIAL_HEADER, rows)

    tickets, stats = read_all(path)

    assert [t.title for t in tickets] == ["good", "also good"]
    assert stats.rejected == {
        RejectReason.EMPTY_PRIORITY: 1,
        RejectReason.UNKNOWN_PRIORITY: 1,
        RejectReason.NO_TEXT: 2,
    }
    assert stats.rejected_rows[RejectReason.NO_TEXT] == [4, 5]
    assert stats.rows_read == stats.rows_accepted + stats.rows_rejected == 6


def test_a_row_with_undecodable_bytes_is_rejected_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bugs.csv"
    path.write_bytes(
        b'"title","priority"\n"caf\xe9 crashes","Major"\n"fine","Minor"\n"\xff\xfe","Minor"\n'
    )

    tickets, stats = read_all(path)

    assert [t.title for t in tickets] == ["fine"]
    assert stats.rejected == {RejectReason.UNDECODABLE: 2}
    assert stats.rejected_rows[RejectReason.UNDECODABLE] == [1, 3]


def test_another_encoding_can_be_named(tmp_path: Path) -> None:
    path = tmp_path / "bugs.csv"
    path.write_bytes('"title","priority"\n"café crashes","Major"\n'.encode("latin-1"))

    (ticket,), _ = read_all(path, encoding="latin-1")

    assert ticket.title == "café crashes"


def test_jira_export_layout_with_bom_and_repeated_columns(tmp_path: Path) -> None:
    header = [
        "Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key",
        "Project name", "Priority", "Description", "Comment", "Comment",
    ]  # fmt: skip
    rows = [
        ["Login fails", "WEB-7", "10007", "Bug", "Resolved", "WEB", "Web", "Critical",
         "Stack trace:\nat Foo", "first", "second"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "export.csv", header, rows, bom=True)

    (ticket,), stats = read_all(path)

    assert stats.layout is Layout.JIRA_EXPORT_CSV
    assert ticket.title == "Login fails"
    assert ticket.description == "Stack trace:\nat Foo"
    assert (ticket.key, ticket.issue_type, ticket.status, ticket.project) == (
        "WEB-7", "Bug", "Resolved", "WEB",
    )  # fmt: skip
    assert ticket.known_priority is Priority.CRITICAL


def test_gzip_is_detected_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    plain = write_csv(
        tmp_path / "plain.csv", TUTORIAL_HEADER, [tutorial_row(title="t", priority="Minor")]
    )
    disguised = tmp_path / "bugs.csv"  # gzip content, no .gz suffix
    disguised.write_bytes(gzip.compress(plain.read_bytes()))

    tickets, stats = read_all(disguised)

    assert len(tickets) == 1
    assert stats.rows_read == 1


def test_truncated_gzip_is_a_dataset_error(tmp_path: Path) -> None:
    rows = [tutorial_row(title=f"ticket {n}", priority="Minor") for n in range(2000)]
    plain = write_csv(tmp_path / "plain.csv", TUTORIAL_HEADER, rows)
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(plain.read_bytes())[:-200])

    with pytest.raises(DatasetError, match="truncated or corrupt"):
        read_all(broken)


def test_json_lines_flat_and_jira_rest_shapes_and_malformed_lines(tmp_path: Path) -> None:
    records = [
        json.dumps({"title": "Flat one", "description": "a\nb", "priority": "minor"}),
        json.dumps(
            {
                "key": "HIVE-9",
                "fields": {
                    "summary": "Nested one",
                    "description": None,
                    "priority": {"name": "Blocker"},
                    "status": {"name": "Open"},
                    "issuetype": {"name": "Bug"},
                    "project": {"key": "HIVE"},
                },
            }
        ),
        "",
        "{not json",
        json.dumps(["a", "list"]),
    ]
    path = tmp_path / "tickets.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(records).encode()))

    tickets, stats = read_all(path)

    assert stats.layout is Layout.JSON_LINES
    assert [(t.title, t.description, t.priority) for t in tickets] == [
        ("Flat one", "a\nb", "minor"),
        ("Nested one", "", "Blocker"),
    ]
    nested = tickets[1]
    assert (nested.key, nested.project, nested.status, nested.issue_type) == (
        "HIVE-9", "HIVE", "Open", "Bug",
    )  # fmt: skip
    assert stats.rejected == {RejectReason.MALFORMED: 2}
    assert stats.rows_read == 4  # the blank line is not a record


def test_unlabelled_tickets_pass_when_no_priority_is_required(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bugs.csv",
        ["title", "description"],
        [["Needs triage", "details"], ["", ""]],
    )

    tickets, stats = read_all(path, require_priority=False)

    assert [(t.title, t.known_priority) for t in tickets] == [("Needs triage", None)]
    assert stats.rejected == {RejectReason.NO_TEXT: 1}


def test_missing_file_and_unknown_layout_are_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        read_all(tmp_path / "absent.csv")
    other = write_csv(tmp_path / "other.csv", ["name", "age"], [["x", "1"]])
    with pytest.raises(DatasetError, match="no title or description column"):
        read_all(other)
    unlabelled = write_csv(tmp_path / "unlabelled.csv", ["title"], [["x"]])
    with pytest.raises(DatasetError, match="no priority column"):
        read_all(unlabelled)


def test_a_missing_column_lists_the_accepted_names_and_the_header(tmp_path: Path) -> None:
    unlabelled = write_csv(tmp_path / "unlabelled.csv", ["Summary", "Severity"], [["x", "high"]])

    with pytest.raises(DatasetError) as raised:
        read_all(unlabelled)

    assert str(raised.value) == (
        f'{unlabelled}: no priority column (accepted names: "priority"); the header is Summary, '
        "Severity. A file without priorities can be scored (transform), not trained or "
        "evaluated on"
    )


def test_a_directory_is_named_as_one(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is a directory; name a ticket or prepared file in it"):
        read_all(tmp_path)


def test_stats_as_dict_is_json_ready(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bugs.csv",
        TUTORIAL_HEADER,
        [tutorial_row(title="a", priority="Major"), tutorial_row(title="b", priority="x")],
    )
    _, stats = read_all(path)

    summary = json.loads(json.dumps(stats.as_dict()))

    assert summary["rows_read"] == 2
    assert summary["rejected"] == {"unknown_priority": 1}
    assert summary["rejected_rows"] == {"unknown_priority": [2]}


def test_read_prepared_parses_label_and_text(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    path.write_text("__label__4 query fails\n\n__label__6 crash\n", encoding="utf-8")

    examples = list(read_prepared(path))

    assert [(e.label, e.text, e.line) for e in examples] == [
        ("__label__4", "query fails", 1),
        ("__label__6", "crash", 3),
    ]
    assert examples[1].priority is Priority.BLOCKER


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("query fails\n", "expected a line starting with __label__1..6"),
        ("__label__9 query\n", "expected a line starting with __label__1..6"),
        ("__label__4 __label__5 both\n", "more than one label"),
    ],
)
def test_read_prepared_names_the_bad_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "train.txt"
    path.write_text("__label__4 ok\n" + content, encoding="utf-8")

    with pytest.raises(DatasetError, match=rf"train.txt:2: {message}"):
        list(read_prepared(path))
