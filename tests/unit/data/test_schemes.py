"""Priority schemes: the built-in ones, a site's own, a mapping, and their file beside a model."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from jira_priority.labels import (
    APACHE,
    JIRA_CLOUD,
    PRIORITIES,
    SCHEME_FILE,
    Priority,
    SchemeError,
    UnknownLabelError,
    parse_scheme,
    read_scheme_file,
    scheme_from_dict,
)
from jira_priority.model_files import ModelFileError, locate_model, read_model_scheme


def test_apache_is_the_default_and_keeps_its_labels() -> None:
    assert APACHE.names == tuple(p.value for p in Priority)
    assert APACHE.priorities == PRIORITIES
    assert APACHE.from_label("__label__4") is Priority.MAJOR
    assert APACHE.from_name(" major ") is Priority.MAJOR


def test_jira_cloud_ranks_lowest_to_highest() -> None:
    assert [(p.label, p.value) for p in JIRA_CLOUD.priorities] == [
        ("__label__1", "Lowest"),
        ("__label__2", "Low"),
        ("__label__3", "Medium"),
        ("__label__4", "High"),
        ("__label__5", "Highest"),
    ]
    assert JIRA_CLOUD.from_name("HIGHEST").rank == 5


@pytest.mark.parametrize("label", ["__label__0", "__label__6", "__label__05", "High", ""])
def test_labels_outside_a_scheme_are_refused(label: str) -> None:
    with pytest.raises(UnknownLabelError):
        JIRA_CLOUD.from_label(label)


def test_apache_names_are_unknown_in_jira_cloud() -> None:
    with pytest.raises(UnknownLabelError, match="jira-cloud"):
        JIRA_CLOUD.from_name("Major")


def test_a_sites_own_scheme_from_comma_separated_names() -> None:
    scheme = parse_scheme("Low, Normal ,High,Urgent")
    assert scheme.names == ("Low", "Normal", "High", "Urgent")
    assert scheme.from_name("urgent").label == "__label__4"


def test_a_scheme_file_with_names(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    path.write_text(json.dumps({"name": "acme", "priorities": ["P4", "P3", "P2", "P1"]}))

    scheme = parse_scheme(str(path))

    assert (scheme.name, scheme.names) == ("acme", ("P4", "P3", "P2", "P1"))
    assert scheme.from_label("__label__4").value == "P1"


def test_a_mapping_of_site_names_onto_a_built_in_scheme(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    mapping = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low", "P5": "Lowest"}
    path.write_text(json.dumps({"scheme": "jira-cloud", "map": mapping}))

    scheme = parse_scheme(str(path))

    assert scheme.names == JIRA_CLOUD.names
    assert scheme.from_name("p1").value == "Highest"
    assert scheme.from_name("Medium").value == "Medium"  # the scheme's own names still count


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"priorities": ["Only"]}, "2 to 20"),
        ({"priorities": ["High", "high"]}, "occurs twice"),
        ({"priorities": ["Low", ""]}, "non-empty"),
        ({"priorities": "Low,High"}, "must be a list"),
        ({"scheme": "jira-server"}, "unknown priority scheme"),
        ({"scheme": "jira-cloud", "map": {"P1": "Blocker"}}, "not a priority of the jira-cloud"),
        ({"priorities": ["A", "B"], "colour": "red"}, "unknown field"),
        ([], "JSON object"),
    ],
)
def test_bad_schemes_say_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(SchemeError, match=message):
        scheme_from_dict(data)


def test_an_unknown_scheme_name_lists_the_built_in_ones() -> None:
    with pytest.raises(SchemeError, match="apache, jira-cloud"):
        parse_scheme("jira-server")


def test_a_scheme_round_trips_through_its_file(tmp_path: Path) -> None:
    mapped = parse_scheme("Low,Normal,High")
    path = mapped.write(tmp_path)

    assert path.name == SCHEME_FILE
    assert read_scheme_file(path) == mapped


def test_a_model_without_scheme_json_is_apache(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"x")

    assert read_model_scheme(model) is APACHE


def test_the_scheme_json_beside_a_model_is_read(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"x")
    JIRA_CLOUD.write(tmp_path)

    assert read_model_scheme(model).names == JIRA_CLOUD.names


def test_a_broken_scheme_json_stops_the_model_from_loading(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"x")
    (tmp_path / SCHEME_FILE).write_text('{"priorities": ["Only"]}')

    with pytest.raises(ModelFileError, match=r"scheme\.json of model\.bin: .*2 to 20"):
        read_model_scheme(model)


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_the_scheme_travels_inside_a_model_archive(tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        add_member(tar, "model.bin", b"model bytes")
        add_member(tar, "./scheme.json", json.dumps(JIRA_CLOUD.as_dict()).encode())

    model = locate_model(archive, tmp_path / "extracted")

    assert model == tmp_path / "extracted" / "model.bin"
    assert read_model_scheme(archive).names == JIRA_CLOUD.names


def test_an_archive_without_a_scheme_is_apache_whatever_lies_beside_it(tmp_path: Path) -> None:
    JIRA_CLOUD.write(tmp_path)  # beside the archive, not in it: not this model's
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        add_member(tar, "model.bin", b"model bytes")

    assert read_model_scheme(archive) is APACHE


def test_a_model_directory_holds_its_scheme(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"x")
    JIRA_CLOUD.write(tmp_path)

    assert read_model_scheme(tmp_path).names == JIRA_CLOUD.names


def test_the_built_in_schemes_know_the_priority_jira_gives_a_new_issue() -> None:
    assert APACHE.default == "Major"
    assert APACHE.default_level is Priority.MAJOR
    assert JIRA_CLOUD.default == "Medium"
    assert parse_scheme("Low,Normal*,High").default == "Normal"
    assert parse_scheme("Low,Normal,High").default is None


def test_a_schemes_default_travels_in_its_file_and_must_be_one_of_its_names() -> None:
    scheme = scheme_from_dict({"name": "acme", "priorities": ["Low", "High"], "default": "low"})

    assert scheme.default == "Low"
    assert scheme_from_dict(scheme.as_dict()) == scheme
    assert scheme_from_dict({"scheme": "jira-cloud", "default": "High"}).default == "High"
    with pytest.raises(SchemeError, match="'Urgent' is not one of"):
        scheme_from_dict({"priorities": ["Low", "High"], "default": "Urgent"})
    with pytest.raises(SchemeError, match="at most one"):
        parse_scheme("Low*,High*")
