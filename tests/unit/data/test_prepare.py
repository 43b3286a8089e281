"""``prepare``: BlazingText lines, a stratified seeded split, options, and exact row accounting."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from training_jobs.cli import main
from training_jobs.data.readers import file_sha256

from jira_priority.labels import LABELS
from jira_priority.text import MAX_TOKENS, normalise_ticket

HEADER = ["id", "title", "description", "priority", "project", "status", "type", "key"]
PRIORITY_COUNTS = {"Major": 40, "Minor": 20, "Critical": 10, "Blocker": 6, "Trivial": 4}


def make_rows() -> list[list[str]]:
    """80 distinct tickets over two projects, with the awkward cases mixed in."""
    rows = []
    n = 0
    for priority, count in PRIORITY_COUNTS.items():
        for i in range(count):
            n += 1
            project = "HIVE" if n % 4 else "HDFS"
            status = "Resolved" if n % 3 else "Open"
            issue_type = "Improvement" if n % 5 == 0 else "Bug"
            description = f'line one of {n},\nline "two", with {{code}}x{{code}}\r\nthree'
            if i == 0:
                description = ""  # empty description: still a ticket
            rows.append(
                [str(n), f"{priority} ticket number {n}", description, priority, project,
                 status, issue_type, f"{project}-{n}"]
            )  # fmt: skip
    return rows


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def prepare(tmp_path: Path, source: Path, *options: str, out: str = "out") -> dict[str, Any]:
    assert main(["prepare", str(source), "-o", str(tmp_path / out), *options]) == 0
    manifest: dict[str, Any] = json.loads((tmp_path / out / "manifest.json").read_text())
    return manifest


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "bugs.csv", make_rows())


def test_every_ticket_is_one_line_of_label_and_normalised_tokens(
    tmp_path: Path, source: Path
) -> None:
    prepare(tmp_path, source)

    lines = lines_of(tmp_path / "out" / "train.txt") + lines_of(tmp_path / "out" / "validation.txt")

    assert len(lines) == 80  # newlines inside descriptions never split a ticket
    by_text = {line.split(" ", 1)[1]: line.split(" ", 1)[0] for line in lines}
    for row in make_rows():
        text = normalise_ticket(row[1], row[2])
        assert by_text[text] == LABELS[["Optional", "Trivial", "Minor", "Major", "Critical",
                                        "Blocker"].index(row[3])]  # fmt: skip
    assert all("{code}" not in line and '"' not in line for line in lines)


def test_row_counts_are_preserved_and_reported(tmp_path: Path) -> None:
    rows = [
        *make_rows(),
        ["81", "no priority", "x", "", "HIVE", "Open", "Bug", "HIVE-81"],
        ["82", "odd priority", "x", "Urgent", "HIVE", "Open", "Bug", "HIVE-82"],
        ["83", "", "", "Major", "HIVE", "Open", "Bug", "HIVE-83"],
        ["84", "Major ticket number 1", "", "Major", "HIVE", "Open", "Bug", "HIVE-84"],
    ]
    source = write_csv(tmp_path / "bugs.csv", rows)

    manifest = prepare(tmp_path, source)

    counts = manifest["rows"]
    assert counts["read"] == 84
    assert counts["rejected_by_reason"] == {
        "empty_priority": 1,
        "no_text": 1,
        "unknown_priority": 1,
    }
    assert counts["duplicates_dropped"] == 1
    assert counts["written"] == 80
    assert (
        counts["read"]
        == counts["written"]
        + counts["rejected"]
        + counts["filtered_out"]
        + counts["duplicates_dropped"]
    )
    files = manifest["files"]
    assert files["train.txt"]["lines"] + files["validation.txt"]["lines"] == 80


def test_split_is_stratified_by_priority(tmp_path: Path, source: Path) -> None:
    manifest = prepare(tmp_path, source, "--validation-fraction", "0.25")

    validation = manifest["files"]["validation.txt"]["priorities"]
    train = manifest["files"]["train.txt"]["priorities"]

    assert validation == {"Trivial": 1, "Minor": 5, "Major": 10, "Critical": 2, "Blocker": 2}
    assert {p: train[p] + validation[p] for p in train} == PRIORITY_COUNTS


def test_same_seed_same_files_other_seed_other_split(tmp_path: Path, source: Path) -> None:
    prepare(tmp_path, source, "--seed", "7", out="a")
    prepare(tmp_path, source, "--seed", "7", out="b")
    prepare(tmp_path, source, "--seed", "8", out="c")

    train = {name: (tmp_path / name / "train.txt").read_bytes() for name in "abc"}

    assert train["a"] == train["b"]
    assert train["a"] != train["c"]
    assert sorted(lines_of(tmp_path / "a" / "train.txt")) != sorted(
        lines_of(tmp_path / "c" / "train.txt")
    )


def test_training_lines_are_shuffled_not_grouped_by_priority(tmp_path: Path, source: Path) -> None:
    prepare(tmp_path, source)

    labels = [line.split(" ", 1)[0] for line in lines_of(tmp_path / "out" / "train.txt")]

    runs = sum(1 for a, b in itertools.pairwise(labels) if a != b)
    assert runs > 10


def test_holding_out_a_project_keeps_it_out_of_train_and_validation(
    tmp_path: Path, source: Path
) -> None:
    manifest = prepare(tmp_path, source, "--holdout-project", "hdfs")

    holdout = lines_of(tmp_path / "out" / "holdout.txt")
    others = lines_of(tmp_path / "out" / "train.txt") + lines_of(
        tmp_path / "out" / "validation.txt"
    )
    hdfs_texts = {normalise_ticket(r[1], r[2]) for r in make_rows() if r[4] == "HDFS"}

    assert {line.split(" ", 1)[1] for line in holdout} == hdfs_texts
    assert not hdfs_texts & {line.split(" ", 1)[1] for line in others}
    assert manifest["files"]["holdout.txt"]["lines"] == len(hdfs_texts) == 20
    assert manifest["rows"]["written"] == 80


def test_filters_by_status_type_and_project_are_counted(tmp_path: Path, source: Path) -> None:
    manifest = prepare(tmp_path, source, "--status", "resolved", "--project", "HIVE")

    rows = make_rows()
    kept = [r for r in rows if r[5] == "Resolved" and r[4] == "HIVE"]
    assert manifest["rows"]["written"] == len(kept)
    assert manifest["rows"]["filtered_out"] == len(rows) - len(kept)
    assert manifest["rows"]["filtered_out_by"]["status"] == sum(1 for r in rows if r[5] == "Open")

    typed = prepare(tmp_path, source, "--issue-type", "improvement", out="typed")
    assert typed["rows"]["filtered_out_by"] == {"issue_type": 64}
    assert typed["rows"]["written"] == 16


def test_filtering_everything_out_is_a_clear_error(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["prepare", str(source), "-o", str(tmp_path / "out"), "--status", "NONE"])

    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("prepare: no ticket left to train on (80 rows read")
    assert "Traceback" not in err


@pytest.mark.parametrize("option", ["--project", "--holdout-project"])
def test_a_project_without_tickets_fails_naming_the_data_projects(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    # `make evaluate-holdout PROJECT=NOPE` must stop here, before training a model
    code = main(["prepare", str(source), "-o", str(tmp_path / "out"), option, "nope"])

    assert code == 1
    assert capsys.readouterr().err == (
        "prepare: no ticket of project NOPE in the data (its projects: HIVE, HDFS)\n"
    )
    assert not (tmp_path / "out").exists()


def test_duplicates_can_be_kept(tmp_path: Path) -> None:
    rows = [*make_rows(), ["81", "Major ticket number 1", "", "Major", "HIVE", "Open", "Bug", "K"]]
    source = write_csv(tmp_path / "bugs.csv", rows)

    manifest = prepare(tmp_path, source, "--no-drop-duplicates")

    assert manifest["rows"]["duplicates_dropped"] == 0
    assert manifest["rows"]["written"] == 81


def test_max_tokens_caps_each_ticket(tmp_path: Path, source: Path) -> None:
    prepare(tmp_path, source, "--max-tokens", "3")

    lines = lines_of(tmp_path / "out" / "train.txt")

    assert max(len(line.split()) for line in lines) == 1 + 3


def test_max_tokens_above_what_serving_uses_is_refused(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["prepare", str(source), "--max-tokens", str(MAX_TOKENS + 1)])

    assert code == 2
    assert capsys.readouterr().err == (
        f"prepare: Invalid value for '--max-tokens': {MAX_TOKENS + 1} is not in the range "
        f"1<=x<={MAX_TOKENS}. (see jira-priority prepare --help)\n"
    )


def test_oversampling_lifts_minorities_in_train_only(tmp_path: Path, source: Path) -> None:
    plain = prepare(tmp_path, source, out="plain")
    manifest = prepare(tmp_path, source, "--oversample", "0.5", out="over")

    train = manifest["files"]["train.txt"]["priorities"]
    largest = max(train.values())
    assert min(train.values()) >= round(largest * 0.5)
    assert largest == plain["files"]["train.txt"]["priorities"]["Major"]
    assert manifest["files"]["validation.txt"] == plain["files"]["validation.txt"]
    assert manifest["rows"]["oversampled_copies"] == sum(train.values()) - sum(
        plain["files"]["train.txt"]["priorities"].values()
    )
    assert manifest["rows"]["written"] == 80


def test_manifest_records_the_source_and_settings(tmp_path: Path, source: Path) -> None:
    manifest = prepare(tmp_path, source, "--seed", "3")

    (entry,) = manifest["sources"]
    assert entry["sha256"] == file_sha256(source)
    assert entry["layout"] == "tutorial-csv"
    assert manifest["settings"]["seed"] == 3
    assert manifest["settings"]["max_tokens"] == MAX_TOKENS
    train_labels = Counter(
        line.split(" ", 1)[0] for line in lines_of(tmp_path / "out" / "train.txt")
    )
    assert manifest["files"]["train.txt"]["labels"] == dict(sorted(train_labels.items()))


def test_jira_export_is_prepared_like_the_tutorial_layout(tmp_path: Path) -> None:
    header = ["Summary", "Issue key", "Issue Type", "Status", "Project key", "Priority",
              "Description", "Comment", "Comment"]  # fmt: skip
    rows = [
        [f"Export ticket {n}", f"{key}-{n}", "Bug", "Done", key, p, "a,\nb", "c1", "c2"]
        for n, (key, p) in enumerate([("WEB", "Major"), ("WEB", "Minor"), ("API", "Major")] * 4)
    ]
    source = write_csv(tmp_path / "export.csv", rows, header)

    manifest = prepare(tmp_path, source, "--holdout-project", "web")

    assert manifest["sources"][0]["layout"] == "jira-export-csv"
    assert manifest["files"]["holdout.txt"]["lines"] == 8
    assert manifest["rows"]["written"] == 12


def test_missing_input_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["prepare", str(tmp_path / "absent.csv"), "-o", str(tmp_path / "out")])

    assert code == 1
    assert capsys.readouterr().err == f"prepare: {tmp_path / 'absent.csv'}: no such file\n"
    assert not (tmp_path / "out").exists()
