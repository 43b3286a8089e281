"""A site's scheme on the command line: prepare, train-local and evaluate in its names."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from training_jobs.cli import main

from jira_priority.labels import SCHEME_FILE

#: Jira Cloud's CSV export: duplicate and extra columns, names with spaces.
EXPORT_HEADER = [
    "Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key",
    "Project name", "Priority", "Description", "Labels", "Labels",
]  # fmt: skip
SIGNAL = {
    "Lowest": ("typo", "spelling", "javadoc"),
    "Low": ("cosmetic", "wording", "alignment"),
    "Medium": ("query", "option", "ignored"),
    "High": ("deadlock", "hang", "leak"),
    "Highest": ("crash", "outage", "dataloss"),
}


def export_rows(per_priority: int = 40, seed: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for priority, words in SIGNAL.items():
        for n in range(per_priority):
            key = f"ACME-{len(rows) + 1}"
            summary = f"{rng.choice(words)} {rng.choice(words)} in report {n} {priority.lower()}"
            description = f"{rng.choice(words)} when exporting\nsee {key}"
            rows.append(
                [summary, key, str(10000 + len(rows)), "Bug", "Done", "ACME", "Acme",
                 priority, description, "ui", ""]
            )  # fmt: skip
    rng.shuffle(rows)
    return rows


def write_export(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    writer.writerows(rows)
    path.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")  # Jira writes a BOM
    return path


def manifest_of(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / "manifest.json").read_text())
    return data


def test_a_jira_cloud_export_prepares_trains_and_evaluates_in_its_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_export(tmp_path / "export.csv", export_rows())
    data, model = tmp_path / "data", tmp_path / "model"

    assert main(["prepare", str(export), "-o", str(data), "--scheme", "jira-cloud"]) == 0
    manifest = manifest_of(data)
    assert manifest["rows"]["read"] == 200
    assert manifest["rows"]["rejected"] == 0  # no row lost to "unknown priority"
    assert manifest["files"]["validation.txt"]["priorities"] == {
        "Lowest": 8, "Low": 8, "Medium": 8, "High": 8, "Highest": 8,
    }  # fmt: skip
    assert manifest["settings"]["scheme"]["name"] == "jira-cloud"
    assert json.loads((data / SCHEME_FILE).read_text())["priorities"][0] == "Lowest"

    # train-local takes the scheme prepare wrote beside train.txt, and puts it beside the model
    assert main(["train-local", "--train", str(data / "train.txt"),
                 "--validation", str(data / "validation.txt"), "-o", str(model),
                 "--epochs", "20", "--vector-dim", "8", "--buckets", "1000",
                 "--min-validation-lines", "10"]) == 0  # fmt: skip
    assert json.loads((model / SCHEME_FILE).read_text())["name"] == "jira-cloud"
    training = json.loads((model / "training.json").read_text())
    assert [c["priority"] for c in training["validation"]["model.bin"]["per_class"]] == [
        "Lowest", "Low", "Medium", "High", "Highest",
    ]  # fmt: skip

    # evaluate reads the model's scheme, the export's names, and writes its figures in them
    report_dir = tmp_path / "evaluation"
    assert main(["evaluate", str(export), "--model", str(model / "model.bin"),
                 "--output-dir", str(report_dir), "--no-progress"]) == 0  # fmt: skip
    report = json.loads((report_dir / "report.json").read_text())
    assert report["count"] == 200
    assert report["input"]["read"]["rejected"] == {}
    assert report["metrics"]["confusion_matrix"]["labels"] == [
        "Lowest", "Low", "Medium", "High", "Highest",
    ]  # fmt: skip
    assert report["metrics"]["accuracy"] > 0.8
    assert "Lowest=1 .. Highest=5" in report["conventions"]
    assert "| Highest |" in (report_dir / "summary.md").read_text()
    assert "Major" not in json.dumps(report["metrics"])
    capsys.readouterr()


def test_the_default_scheme_refuses_a_jira_cloud_export_naming_the_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_export(tmp_path / "export.csv", export_rows())

    assert main(["prepare", str(export), "-o", str(tmp_path / "data")]) == 1

    error = capsys.readouterr().err
    assert "200 of 200 rows have a priority outside the apache scheme" in error
    for value in ("Lowest (40)", "Low (40)", "Medium (40)", "High (40)", "Highest (40)"):
        assert value in error
    assert "--scheme" in error
    assert not (tmp_path / "data" / "train.txt").exists()


def test_a_few_values_outside_the_scheme_are_counted_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = export_rows()
    for row in rows[:3]:
        row[EXPORT_HEADER.index("Priority")] = "Urgent"
    export = write_export(tmp_path / "export.csv", rows)

    assert (
        main(["prepare", str(export), "-o", str(tmp_path / "data"), "--scheme", "jira-cloud"]) == 0
    )

    out = capsys.readouterr().out
    assert "rejected 3 x unknown_priority" in out
    assert "priorities outside the jira-cloud scheme: Urgent (3)" in out
    source = manifest_of(tmp_path / "data")["sources"][0]
    assert source["unknown_priorities"] == {"Urgent": 3}


def test_a_mapping_file_reads_a_sites_own_names(tmp_path: Path) -> None:
    names = {"Lowest": "P5", "Low": "P4", "Medium": "P3", "High": "P2", "Highest": "P1"}
    rows = export_rows()
    for row in rows:
        row[EXPORT_HEADER.index("Priority")] = names[row[EXPORT_HEADER.index("Priority")]]
    export = write_export(tmp_path / "export.csv", rows)
    mapping = tmp_path / "acme.json"
    mapping.write_text(
        json.dumps({"scheme": "jira-cloud", "map": {v: k for k, v in names.items()}})
    )

    assert (
        main(["prepare", str(export), "-o", str(tmp_path / "data"), "--scheme", str(mapping)]) == 0
    )

    manifest = manifest_of(tmp_path / "data")
    assert manifest["rows"]["rejected"] == 0
    assert set(manifest["files"]["train.txt"]["priorities"]) == set(names)


def test_an_unknown_scheme_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_export(tmp_path / "export.csv", export_rows(2))

    assert main(["prepare", str(export), "-o", str(tmp_path / "d"), "--scheme", "jira"]) == 2
    assert "built-in scheme (apache, jira-cloud)" in capsys.readouterr().err


def test_prepare_records_the_default_priority_and_each_lines_project(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export.csv", export_rows())
    out = tmp_path / "data"

    code = main(["prepare", str(export), "-o", str(out), "--scheme", "jira-cloud",
                 "--default-priority", "low"])  # fmt: skip

    assert code == 0
    assert json.loads((out / SCHEME_FILE).read_text())["default"] == "Low"
    projects = (out / "train.txt.projects").read_text().splitlines()
    assert len(projects) == len((out / "train.txt").read_text().splitlines())
    assert set(projects) == {"ACME"}


def test_a_scheme_without_a_default_takes_the_most_common_priority(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = export_rows()
    rows += [[*row[:7], "High", *row[8:]] for row in export_rows(seed=2)][:30]
    export = write_export(tmp_path / "export.csv", rows)
    out = tmp_path / "data"

    code = main(["prepare", str(export), "-o", str(out),
                 "--scheme", "Lowest,Low,Medium,High,Highest"])  # fmt: skip

    assert code == 0
    assert json.loads((out / SCHEME_FILE).read_text())["default"] == "High"
    assert "declares no default priority: taking the most common one, High" in (
        capsys.readouterr().err
    )


def test_an_unknown_default_priority_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_export(tmp_path / "export.csv", export_rows())

    code = main(["prepare", str(export), "-o", str(tmp_path / "d"), "--default-priority", "P9"])

    assert code == 2
    assert "'P9' is not one of the apache scheme's priorities" in capsys.readouterr().err
