"""Property: the commands that load a model meet damaged models, sidecars and archives with
one line on stderr and exit status 1, never a traceback (issue 18, "go beyond the list").

Each example damages the tiny model (tests/support/models.py, under 2 kB), its
postprocessing.json or scheme.json, or the model.tar.gz that carries them, and runs
``classify``, ``calibrate``, ``package``, ``promote`` and ``evaluate`` on it in this
process (``training_jobs.cli.main``). Damage that cannot leave a usable model
(a cut, bytes after the end, sidecars over other labels, a repeated or linked member)
must be refused; damage that may leave one (a changed weight, an epoch count) may
also succeed. Time and memory are bounded by construction: the inputs are a few kB,
and the checks refuse them before fastText reads them.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from training_jobs.cli import main

from jira_priority.labels import LABELS, SCHEME_FILE
from jira_priority.postprocessing import FILE_NAME
from jira_priority.predictors import embedded
from tests.support.damaged import (
    BUCKET_OFFSET,
    DIM_OFFSET,
    MODEL_OFFSET,
    NGRAMS_OFFSET,
    huge_integer_postprocessing,
    patched,
    postprocessing_text,
    tar_gz,
)
from tests.support.models import synthetic_lines, train_tiny_model, write_lines

#: The tiny model's labels: five priorities, no Optional.
MODEL_LABELS = LABELS[1:]
#: Header fields (int32 offsets) a patch may hit; some leave the model usable (ws, epoch).
HEADER_OFFSETS = (DIM_OFFSET, 12, 16, 20, NGRAMS_OFFSET, 32, MODEL_OFFSET, BUCKET_OFFSET, 44, 48)
EXAMPLES = max(settings().max_examples // 10, 10)


@dataclass(frozen=True)
class Damage:
    """How one example damages the model and what travels with it."""

    model: tuple[str, int, int]  # (kind, position, value)
    postprocessing: str | None  # the file's text, None for no file
    scheme: str | None
    archive: bool
    #: In an archive: the index (modulo the members) of a member added twice, if any.
    repeat_member: int | None
    #: In an archive: a link added under a name we read.
    link_member: bool
    #: Whether the model, its scheme.json or the archive is surely unusable
    broken: bool
    #: Whether its postprocessing.json surely is (calibrate does not read it: it replaces it)
    postprocessing_broken: bool

    def breaks(self, command: str) -> bool:
        """Whether nothing usable is left for ``command``, which must then refuse it."""
        return self.broken or (self.postprocessing_broken and command != "calibrate")


def model_damage() -> st.SearchStrategy[tuple[tuple[str, int, int], bool]]:
    """(kind, position, value), and whether it surely breaks the model."""
    cut = st.tuples(st.just("cut"), st.integers(0, 1 << 20), st.just(0))
    append = st.tuples(st.just("append"), st.integers(1, 64), st.integers(0, 255))
    patch = st.tuples(
        st.just("patch"), st.sampled_from(HEADER_OFFSETS), st.integers(-(1 << 31), (1 << 31) - 1)
    )
    flip = st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(1, 255))
    return st.one_of(
        cut.map(lambda d: (d, True)),
        append.map(lambda d: (d, True)),
        patch.map(lambda d: (d, False)),
        flip.map(lambda d: (d, False)),
        st.just((("none", 0, 0), False)),
    )


def sidecar_damage() -> st.SearchStrategy[tuple[str | None, bool]]:
    """A postprocessing.json text, and whether it surely cannot be used with the model."""
    extra = st.sampled_from(["__label__1", "__label__7", "__label__99", "label", ""])
    return st.one_of(
        st.just((None, False)),
        st.just((postprocessing_text(MODEL_LABELS), False)),
        st.integers(0, len(MODEL_LABELS) - 1).map(
            lambda i: (postprocessing_text(MODEL_LABELS[:i] + MODEL_LABELS[i + 1 :]), True)
        ),
        extra.map(lambda label: (postprocessing_text((*MODEL_LABELS, label)), True)),
        st.just((huge_integer_postprocessing(MODEL_LABELS), True)),
        st.text(max_size=200).map(lambda text: (text, True)),
        st.binary(max_size=200).map(lambda data: (data.decode("latin-1"), True)),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner),
            max_leaves=12,
        ).map(lambda value: (json.dumps(value), True)),
    )


def scheme_damage() -> st.SearchStrategy[tuple[str | None, bool]]:
    names = st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=8)
    return st.one_of(
        st.just((None, False)),
        names.map(lambda n: (json.dumps({"name": "site", "priorities": n}), False)),
        # fewer names than the model has labels: __label__6 has none
        st.just((json.dumps({"name": "site", "priorities": ["a", "b", "c", "d", "e"]}), True)),
        st.text(max_size=100).map(lambda text: (text, False)),
    )


@st.composite
def damages(draw: st.DrawFn) -> Damage:
    model, model_broken = draw(model_damage())
    postprocessing, pp_broken = draw(sidecar_damage())
    scheme, scheme_broken = draw(scheme_damage())
    archive = draw(st.booleans())
    repeat = draw(st.none() | st.integers(0, 2)) if archive else None
    link = archive and draw(st.booleans())
    broken = model_broken or scheme_broken or repeat is not None or link
    return Damage(model, postprocessing, scheme, archive, repeat, link, broken, pp_broken)


def damaged_bytes(good: bytes, damage: tuple[str, int, int]) -> bytes:
    kind, position, value = damage
    if kind == "cut":
        return good[: position % len(good)]
    if kind == "append":
        return good + bytes([value]) * position
    if kind == "patch":
        return patched(good, position, value)
    if kind == "flip":
        at = position % len(good)
        return good[:at] + bytes([good[at] ^ value]) + good[at + 1 :]
    return good


def write_damaged(good: bytes, damage: Damage, where: Path) -> Path:
    """The damaged model as a directory or a model.tar.gz under ``where``; return its path."""
    files = {"model.bin": damaged_bytes(good, damage.model)}
    if damage.postprocessing is not None:
        files[FILE_NAME] = damage.postprocessing.encode("utf-8", "surrogatepass")
    if damage.scheme is not None:
        files[SCHEME_FILE] = damage.scheme.encode("utf-8", "surrogatepass")
    if not damage.archive:
        directory = where / "model"
        directory.mkdir()
        for name, data in files.items():
            (directory / name).write_bytes(data)
        return directory
    members = list(files.items())
    if damage.repeat_member is not None:
        members.append(members[damage.repeat_member % len(members)])
    links = {}
    if damage.link_member:
        name = next(n for n in (FILE_NAME, SCHEME_FILE, "other.bin") if n not in files)
        links[name] = "/etc/passwd"
    archive = where / "model.tar.gz"
    archive.write_bytes(tar_gz(members, links=links))
    return archive


@dataclass(frozen=True)
class Run:
    command: str
    code: int | None
    out: str
    err: str
    crash: str | None


def run(argv: list[str]) -> Run:
    out, err = io.StringIO(), io.StringIO()
    crash = None
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except BaseException:  # any escape is what this test looks for
            crash = traceback.format_exc()
    return Run(argv[0], code, out.getvalue(), err.getvalue(), crash)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The good model, a live model to promote over, prepared lines; a private model cache."""
    root = tmp_path_factory.mktemp("commands")
    good = train_tiny_model(root / "good")
    live = root / "live"
    live.mkdir()
    (live / "model.bin").write_bytes(good.read_bytes())
    data = write_lines(root / "held-out.txt", synthetic_lines(12, 5))
    cache_root = root / "tmp"
    cache_root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embedded.tempfile, "tempdir", str(cache_root))
        embedded.model_cache_dir.cache_clear()
        yield {"good": good, "live": live, "data": data}
    embedded.model_cache_dir.cache_clear()


def commands(model: Path, workspace: dict[str, Path], out: Path, broken: bool) -> list[list[str]]:
    data = str(workspace["data"])
    runs = [
        ["classify", "--model", str(model), "the server crashes after the upgrade"],
        ["calibrate", "--model", str(model), "--data", data, "-o", str(out / "calibrated")],
        ["package", "--model", str(model), "--output", str(out / "packaged.tar.gz")],
    ]
    if broken:  # a report of a usable model takes seconds of plotting: refusals only
        runs.append(["evaluate", data, "--model", str(model), "-o", str(out / "evaluation")])
    if model.is_dir():  # promote takes a model directory
        runs.append(
            ["promote", "--candidate", str(model), "--live", str(out / "live"),
             "--held-out", data]
        )  # fmt: skip
    return runs


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(damage=damages())
def test_damaged_models_are_refused_in_one_line_by_every_command(
    damage: Damage, workspace: dict[str, Path]
) -> None:
    good = workspace["good"].read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        model = write_damaged(good, damage, where)
        (where / "live").mkdir()
        (where / "live" / "model.bin").write_bytes(good)
        for argv in commands(model, workspace, where, damage.breaks("evaluate")):
            result = run(argv)
            assert result.crash is None, f"{result.command} raised:\n{result.crash}"
            assert "Traceback" not in result.err
            if result.code == 0 and not damage.breaks(result.command):
                continue  # the damage left a usable model (a changed weight, say)
            assert result.code == 1, (result.command, result.code, result.err)
            assert result.err.count("\n") == 1, result.err
            assert result.err.startswith(f"{result.command}: "), result.err
            assert result.out == ""
