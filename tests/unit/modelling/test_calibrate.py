"""``calibrate`` meets a damaged model and data too thin to fit on: one line, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from training_jobs.cli import main
from training_jobs.modelling.held_out import MIN_HELD_OUT_LINES

from jira_priority.postprocessing import FILE_NAME
from tests.support.damaged import damaged_models, tar_gz
from tests.support.models import synthetic_lines, write_lines

pytestmark = pytest.mark.usefixtures("fresh_model_cache")


@pytest.fixture
def fasttext_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path fastText is asked to load; a damaged file must never get there (it once
    took 32 s and 6.7 GB before SIGFPE killed the process, so it is not even tried here)."""
    import fasttext

    loads: list[str] = []

    def refusing_load(path: str) -> Any:
        loads.append(path)
        raise AssertionError(f"fastText was asked to load the unchecked file {path}")

    monkeypatch.setattr(fasttext, "load_model", refusing_load)
    return loads


def calibrate(
    capsys: pytest.CaptureFixture[str], model: Path, data: Path, out: Path
) -> tuple[int, str, str]:
    code = main(["calibrate", "--model", str(model), "--data", str(data), "--output-dir", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lines(tmp_path_factory.mktemp("data") / "held-out.txt", synthetic_lines(20, 9))


@pytest.mark.parametrize("damage", ["truncated to 20 bytes", "truncated to half", "huge dimension"])
def test_calibrate_refuses_a_damaged_model_before_fasttext_loads_it(
    damage: str,
    model_path: Path,
    held_out: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fasttext_loads: list[str],
) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(damaged_models(model_path.read_bytes())[damage])

    code, out, err = calibrate(capsys, model, held_out, tmp_path / "out")

    assert code == 1
    assert out == ""
    assert err.startswith(f"calibrate: cannot load the model {model}: model.bin is not a usable")
    assert err.count("\n") == 1
    assert fasttext_loads == []
    assert not (tmp_path / "out" / FILE_NAME).exists()


def test_calibrate_refuses_a_damaged_model_inside_an_archive(
    model_path: Path,
    held_out: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fasttext_loads: list[str],
) -> None:
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(tar_gz([("model.bin", model_path.read_bytes()[:20])]))

    code, _, err = calibrate(capsys, archive, held_out, tmp_path / "out")

    assert code == 1
    assert "model.bin is not a usable fastText model" in err
    assert err.count("\n") == 1
    assert fasttext_loads == []


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        # 30 lines of one priority once fitted a temperature of 0.085: every answer then
        # claimed a calibrated probability of 1.0 and was called confident
        ([line for line in synthetic_lines(60, 3) if line.startswith("__label__4")][:30], "30"),
        ([line for line in synthetic_lines(60, 3) if line.startswith("__label__4")], "one"),
        (synthetic_lines(6, 3), "30"),
    ],
    ids=["30 lines of one priority", "60 lines of one priority", "30 lines of five"],
)
def test_calibrate_refuses_data_too_thin_to_fit_on(
    lines: list[str],
    problem: str,
    model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = write_lines(tmp_path / "thin.txt", lines)

    code, out, err = calibrate(capsys, model_path, data, tmp_path / "out")

    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    if problem == "one":
        assert err.startswith(f"calibrate: {data} holds lines of one priority only (__label__4)")
    else:
        assert err.startswith(
            f"calibrate: {data} has {len(lines)} line(s), fewer than {MIN_HELD_OUT_LINES}"
        )
    assert not (tmp_path / "out" / FILE_NAME).exists()


def test_calibrate_refuses_data_labelled_with_a_priority_the_model_lacks(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tiny model learnt five priorities (labels 2..6); this data also has Optional.
    lines = synthetic_lines(20, 9) + ["__label__1 the server prints a trace"] * 3
    data = write_lines(tmp_path / "with-optional.txt", lines)

    code, out, err = calibrate(capsys, model_path, data, tmp_path / "out")

    assert code == 1
    assert out == ""
    assert err == (
        f"calibrate: {data} has 3 line(s) labelled __label__1, which the model does not answer "
        "(it knows __label__2, __label__3, __label__4, __label__5, __label__6)\n"
    )
    assert not (tmp_path / "out" / FILE_NAME).exists()


def test_calibrate_fits_on_enough_lines_of_several_priorities(
    model_path: Path, held_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = calibrate(capsys, model_path, held_out, tmp_path / "out")

    assert code == 0, err
    assert out == f"{tmp_path / 'out' / FILE_NAME}\n"
