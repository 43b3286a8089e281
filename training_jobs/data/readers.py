"""Reading Jira tickets from the layouts users have, and prepared BlazingText files.

Two kinds of input:

* **Ticket files** (``read_tickets``): the tutorial's CSV layout
  (``title, description, priority, project, status, type, key, ...``), Jira's
  own CSV export (``Summary, Issue key, Issue Type, Status, Project key,
  Priority, Description, ...``, duplicate column names allowed), or JSON lines
  (flat objects with the tutorial's or the export's names, or Jira REST issues
  ``{"key": ..., "fields": {"summary": ..., "priority": {"name": ...}}}``).
  Any of them may be gzip-compressed; compression is detected from the bytes,
  not the file name. A JSON line may carry ``priority_changes`` (``fetch
  --changelog``; ``training_jobs.data.changelog``), read when asked for
  (``read_tickets(changelog=True)``, ``read_changelogs``).
* **Prepared files** (``read_prepared``): BlazingText's line format,
  ``__label__N token token ...``, one ticket per line.

A row that cannot become a labelled ticket (empty or unknown priority, no text,
bytes that are not valid in the file's encoding, a malformed record) is never
fatal and never silently dropped: it is counted by reason in ``ReadStats``,
with the first few row numbers kept for the report. Only a problem with the
whole file (missing, not a known layout, corrupt compression) raises
``DatasetError``.

Example::

    stats = ReadStats()
    for ticket in read_tickets("bugs.csv.gz", stats=stats):
        print(ticket.key, ticket.label)
    print(stats.rows_read, stats.rows_accepted, dict(stats.rejected))
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import sys
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from jira_priority import safe_json
from jira_priority.adf import adf_text
from jira_priority.labels import (
    DEFAULT_SCHEME,
    LABEL_PREFIX,
    Level,
    Priority,
    PriorityScheme,
    UnknownLabelError,
    priority_from_label,
    priority_from_name,
)
from jira_priority.text import tokenise
from training_jobs.data.changelog import ChangelogError, PriorityChange, parse_priority_changes
from training_jobs.errors import CommandError

__all__ = [
    "ChangelogRecord",
    "DatasetError",
    "Layout",
    "PreparedExample",
    "ReadStats",
    "RejectReason",
    "TicketRow",
    "file_sha256",
    "read_changelogs",
    "read_prepared",
    "read_tickets",
    "text_encoding",
]

#: Row numbers kept per reject reason, for the report (the counts are complete).
EXAMPLES_PER_REASON = 5
#: Distinct priority values counted per file; a site has a handful, a wrong column thousands.
MAX_PRIORITY_VALUES = 200

# Jira descriptions reach 32,767 characters and some exports hold several
# long comment columns; the csv module's default limit (128 KiB) is too tight.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


class DatasetError(CommandError):
    """The file as a whole cannot be read (missing, unknown layout, corrupt)."""


class Layout(StrEnum):
    TUTORIAL_CSV = "tutorial-csv"
    JIRA_EXPORT_CSV = "jira-export-csv"
    JSON_LINES = "json-lines"


class RejectReason(StrEnum):
    EMPTY_PRIORITY = "empty_priority"
    UNKNOWN_PRIORITY = "unknown_priority"
    NO_TEXT = "no_text"
    UNDECODABLE = "undecodable"
    MALFORMED = "malformed"
    #: A ``priority_changes`` value that is not a list of well-formed changes.
    BAD_PRIORITY_CHANGES = "bad_priority_changes"


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One Jira ticket as read, before normalisation.

    ``priority`` is the raw value of the file (``" major"`` stays as written);
    ``known_priority`` maps it through the one label map. ``row`` is the
    1-based record number in the file, header excluded.
    """

    title: str
    description: str
    priority: str
    project: str = ""
    status: str = ""
    issue_type: str = ""
    key: str = ""
    row: int = 0
    #: Its priority changes, oldest first, when read with ``changelog=True``; None when the
    #: row has none (not fetched with --changelog) or they were not asked for.
    priority_changes: tuple[PriorityChange, ...] | None = None

    @property
    def known_priority(self) -> Priority | None:
        """The priority as one of the six, or None if empty or unknown."""
        try:
            return priority_from_name(self.priority)
        except UnknownLabelError:
            return None

    @property
    def label(self) -> str:
        """``__label__N`` for this ticket; raises UnknownLabelError for an unknown priority."""
        return priority_from_name(self.priority).label

    def level(self, scheme: PriorityScheme = DEFAULT_SCHEME) -> Level | None:
        """The priority in ``scheme`` (its names or its map), or None if empty or outside it."""
        try:
            return scheme.from_name(self.priority)
        except UnknownLabelError:
            return None


@dataclass
class ReadStats:
    """What reading one file did: rows seen, accepted, and rejected by reason."""

    source: str = ""
    layout: Layout | None = None
    rows_read: int = 0
    rows_accepted: int = 0
    rejected: Counter[RejectReason] = field(default_factory=Counter)
    #: The first few row numbers (1-based, header excluded) of each reject reason.
    rejected_rows: dict[RejectReason, list[int]] = field(default_factory=dict)
    #: Every non-empty priority value seen (as written, trimmed), and those outside the scheme.
    priority_values: Counter[str] = field(default_factory=Counter)
    unknown_priorities: Counter[str] = field(default_factory=Counter)

    def count_priority(self, value: str, known: bool) -> None:
        counters = (
            [self.priority_values] if known else [self.priority_values, self.unknown_priorities]
        )
        for counter in counters:
            if value in counter or len(counter) < MAX_PRIORITY_VALUES:
                counter[value] += 1

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    def reject(self, reason: RejectReason, row: int) -> None:
        self.rejected[reason] += 1
        examples = self.rejected_rows.setdefault(reason, [])
        if len(examples) < EXAMPLES_PER_REASON:
            examples.append(row)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (for manifests and reports)."""
        return {
            "source": self.source,
            "layout": str(self.layout) if self.layout else None,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rejected": {str(reason): n for reason, n in sorted(self.rejected.items())},
            "rejected_rows": {str(r): rows for r, rows in sorted(self.rejected_rows.items())},
            "unknown_priorities": dict(self.unknown_priorities.most_common()),
        }


@dataclass(frozen=True, slots=True)
class PreparedExample:
    """One line of a prepared BlazingText file."""

    label: str
    text: str
    line: int

    @property
    def priority(self) -> Priority:
        return priority_from_label(self.label)

    def level(self, scheme: PriorityScheme = DEFAULT_SCHEME) -> Level:
        """The line's priority in ``scheme`` (read_prepared checked the label against it)."""
        return scheme.from_label(self.label)


# --- column names -------------------------------------------------------------

#: Our field -> the column names that hold it, most specific first (compared
#: case-insensitively). The tutorial uses lower-case single words; Jira's CSV
#: export uses "Summary", "Issue key", "Issue Type", "Project key".
_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "summary"),
    "description": ("description",),
    "priority": ("priority",),
    "project": ("project key", "project", "project name", "project_name"),
    "status": ("status",),
    "issue_type": ("issue type", "issuetype", "issue_type", "type"),
    "key": ("issue key", "key", "issue_key"),
}


def _accepted_names(*fields: str) -> str:
    """The column names that hold ``fields``, for a message (case does not matter)."""
    return ", ".join(f'"{alias}"' for name in fields for alias in _COLUMN_ALIASES[name])


def _column_index(header: Sequence[str]) -> dict[str, int]:
    """Our field -> index of its column (the first of duplicate names wins)."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(name.strip().casefold(), index)
    found: dict[str, int] = {}
    for ticket_field, aliases in _COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in positions:
                found[ticket_field] = positions[alias]
                break
    return found


# --- opening files -----------------------------------------------------------


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(2) == _GZIP_MAGIC


#: The decoding error handler of ticket files: every byte the encoding cannot decode
#: becomes a lone surrogate (U+DC00 + byte), as ``surrogateescape`` does for bytes
#: above 127 only; a multi-byte encoding's bad unit (UTF-16's stray surrogate, a
#: truncated last character) holds bytes below 128 too.
UNDECODABLE_HANDLER = "jira_priority.undecodable"


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + byte) for byte in bad), error.end


codecs.register_error(UNDECODABLE_HANDLER, _mark_undecodable)


def text_encoding(name: str) -> str:
    """``name`` if it is a known text encoding; DatasetError otherwise (one line)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        raise DatasetError(f"unknown encoding {name[:60]!r}") from None
    if not info._is_text_encoding:  # rot13, base64, hex, zlib ...: bytes to bytes
        raise DatasetError(f"{name[:60]!r} is not a text encoding (utf-8, cp1252, utf-16 ...)")
    return name


def _undecodable_file(path: Path, encoding: str, error: UnicodeError) -> DatasetError:
    reason = getattr(error, "reason", str(error))
    if "BOM" in reason:  # utf-16 and utf-32 cannot tell the byte order without one
        family = codecs.lookup(encoding).name.replace("_", "-")
        return DatasetError(
            f"{path}: does not start with a byte-order mark, which {encoding} needs; "
            f"name the byte order: --encoding {family}-le or {family}-be"
        )
    return DatasetError(f"{path}: cannot be read as {encoding} ({reason})")


@contextmanager
def _open_text(path: Path, encoding: str) -> Iterator[IO[str]]:
    """The file as text, gunzipped if needed; invalid bytes survive as surrogates.

    Each byte the encoding cannot decode becomes a lone surrogate instead of
    raising (``UNDECODABLE_HANDLER``), so the one row that holds it can be
    rejected and counted while the rest of the file is read. Only what spoils
    the whole file (no byte-order mark where the encoding needs one) raises.
    """
    if path.is_dir():
        raise DatasetError(f"{path}: is a directory; name a ticket or prepared file in it")
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    encoding = text_encoding(encoding)
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # Jira's CSV export starts with a byte-order mark
    options: dict[str, Any] = {"encoding": encoding, "errors": UNDECODABLE_HANDLER, "newline": ""}
    text: IO[str] = (
        gzip.open(path, "rt", **options)  # noqa: SIM115 (closed by the with below)
        if _is_gzip(path)
        else path.open("r", **options)
    )
    with text:
        try:
            yield text
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise DatasetError(f"{path}: compressed data is truncated or corrupt ({exc})") from exc
        except UnicodeError as exc:
            raise _undecodable_file(path, encoding, exc) from exc


def _decodable(values: Sequence[str]) -> bool:
    """False if any value holds a byte the encoding could not decode."""
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _strip_bom(text: str) -> str:
    return text.removeprefix("\ufeff")


# --- tickets -----------------------------------------------------------------


def _accept(
    stats: ReadStats,
    values: Mapping[str, str],
    row: int,
    require_priority: bool,
    scheme: PriorityScheme,
    priority_changes: tuple[PriorityChange, ...] | None = None,
) -> TicketRow | None:
    """The ticket of one record, or None after counting why it was rejected."""
    if not _decodable(list(values.values())):
        stats.reject(RejectReason.UNDECODABLE, row)
        return None
    ticket = TicketRow(
        title=values.get("title", "").strip(),
        description=values.get("description", "").strip(),
        priority=values.get("priority", "").strip(),
        project=values.get("project", "").strip(),
        status=values.get("status", "").strip(),
        issue_type=values.get("issue_type", "").strip(),
        key=values.get("key", "").strip(),
        row=row,
        priority_changes=priority_changes,
    )
    known = bool(ticket.priority) and ticket.level(scheme) is not None
    if ticket.priority:
        stats.count_priority(ticket.priority, known)
    if require_priority:
        if not ticket.priority:
            stats.reject(RejectReason.EMPTY_PRIORITY, row)
            return None
        if not known:
            stats.reject(RejectReason.UNKNOWN_PRIORITY, row)
            return None
    # "No text" means no token survives normalisation: a line of punctuation
    # would otherwise become a BlazingText line with a label and nothing else.
    if not tokenise(f"{ticket.title} {ticket.description}", max_tokens=1):
        stats.reject(RejectReason.NO_TEXT, row)
        return None
    stats.rows_accepted += 1
    return ticket


def _read_csv(
    text: IO[str], path: Path, stats: ReadStats, require_priority: bool, scheme: PriorityScheme
) -> Iterator[TicketRow]:
    csv.field_size_limit(min(_CSV_FIELD_LIMIT, sys.maxsize))
    reader = csv.reader(text, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise DatasetError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise DatasetError(f"{path}: the header row is not valid CSV ({exc})") from exc
    header = [_strip_bom(name) for name in header]
    columns = _column_index(header)
    # The file's own text, shown on one line: a quoted name may hold a line break or ESC.
    names = [name if name.isprintable() else repr(name) for name in header[:8]]
    shown = ", ".join(n if len(n) <= 60 else n[:60] + "..." for n in names)
    shown += ", ..." if len(header) > 8 else ""
    if "title" not in columns and "description" not in columns:
        accepted = _accepted_names("title", "description")
        raise DatasetError(
            f"{path}: no title or description column (accepted names: {accepted}); "
            f"the header is {shown}"
        )
    if require_priority and "priority" not in columns:
        raise DatasetError(
            f"{path}: no priority column (accepted names: {_accepted_names('priority')}); "
            f"the header is {shown}. A file without priorities can be scored (transform), "
            "not trained or evaluated on"
        )
    lower_header = {name.strip().casefold() for name in header}
    stats.layout = Layout.JIRA_EXPORT_CSV if "summary" in lower_header else Layout.TUTORIAL_CSV
    row = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            row += 1
            stats.rows_read += 1
            stats.reject(RejectReason.MALFORMED, row)
            continue
        if not record:  # a blank line between records is not a record
            continue
        row += 1
        stats.rows_read += 1
        values = {
            name: (record[index] if index < len(record) else "") for name, index in columns.items()
        }
        ticket = _accept(stats, values, row, require_priority, scheme)
        if ticket is not None:
            yield ticket


def _name_of(value: Any) -> str:
    """A JSON value as text: Jira REST nests names (``{"name": "Major"}``)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        for key in ("name", "key", "value"):
            if isinstance(value.get(key), str):
                return str(value[key])
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _json_values(record: Mapping[str, Any]) -> dict[str, str]:
    fields = record.get("fields")
    source: Mapping[str, Any] = fields if isinstance(fields, dict) else record
    lowered = {str(name).strip().casefold(): value for name, value in source.items()}
    values: dict[str, str] = {}
    for ticket_field, aliases in _COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in lowered:
                value = lowered[alias]
                # Jira Cloud's REST v3 gives the description as an ADF document.
                is_document = ticket_field == "description" and isinstance(value, dict)
                values[ticket_field] = adf_text(value) if is_document else _name_of(value)
                break
    if "key" in record and isinstance(record["key"], str):  # REST: key beside "fields"
        values["key"] = record["key"]
    return values


def _json_records(text: IO[str], stats: ReadStats) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, object) of each JSON line; undecodable and malformed rows are counted."""
    stats.layout = Layout.JSON_LINES
    row = 0
    for line in text:
        line = _strip_bom(line) if row == 0 else line
        if not line.strip():
            continue
        row += 1
        stats.rows_read += 1
        if not _decodable([line]):
            stats.reject(RejectReason.UNDECODABLE, row)
            continue
        try:
            record = safe_json.loads(line)  # 100,000 `[` are a malformed row, not a traceback
        except ValueError:
            stats.reject(RejectReason.MALFORMED, row)
            continue
        if not isinstance(record, dict):
            stats.reject(RejectReason.MALFORMED, row)
            continue
        yield row, record


#: The JSON field ``fetch --changelog`` writes the priority changes to.
CHANGES_FIELD = "priority_changes"


def _priority_changes(
    record: Mapping[str, Any], stats: ReadStats, row: int
) -> tuple[bool, tuple[PriorityChange, ...] | None]:
    """(usable, changes): changes None when the row has none; not usable (and counted as
    rejected) when they are malformed."""
    if record.get(CHANGES_FIELD) is None:
        return True, None
    try:
        return True, parse_priority_changes(record[CHANGES_FIELD])
    except ChangelogError:
        stats.reject(RejectReason.BAD_PRIORITY_CHANGES, row)
        return False, None


def _read_json_lines(
    text: IO[str],
    stats: ReadStats,
    require_priority: bool,
    scheme: PriorityScheme,
    changelog: bool = False,
) -> Iterator[TicketRow]:
    for row, record in _json_records(text, stats):
        changes = None
        if changelog:
            usable, changes = _priority_changes(record, stats, row)
            if not usable:
                continue
        ticket = _accept(stats, _json_values(record), row, require_priority, scheme, changes)
        if ticket is not None:
            yield ticket


def _looks_like_json_lines(text: IO[str]) -> bool:
    for line in text:
        stripped = _strip_bom(line).lstrip()
        if stripped:
            return stripped.startswith("{")
    return False


def read_tickets(
    path: str | Path,
    *,
    stats: ReadStats | None = None,
    require_priority: bool = True,
    encoding: str = "utf-8",
    scheme: PriorityScheme = DEFAULT_SCHEME,
    changelog: bool = False,
) -> Iterator[TicketRow]:
    """Yield the valid tickets of a tutorial CSV, Jira export CSV or JSON lines file.

    The layout is detected from the content (JSON lines start with ``{``; a
    CSV header with ``Summary`` is a Jira export). Rejected rows are counted
    in ``stats`` (pass one in to read the counts once the iterator is done).
    With ``require_priority=False`` tickets with an empty or unknown priority
    are yielded too (for scoring unlabelled tickets); ``TicketRow.level(scheme)``
    is then None for them. A priority is known if ``scheme`` (default: apache)
    names it or maps it; every value seen is counted in ``stats``. With
    ``changelog=True`` each JSON line's ``priority_changes`` is read into
    ``TicketRow.priority_changes``; a row whose changes are malformed is rejected
    (``bad_priority_changes``). CSV files have none.

    Raises DatasetError for a missing file, an unknown layout or corrupt gzip.
    """
    path = Path(path)
    stats = stats if stats is not None else ReadStats()
    stats.source = str(path)
    with _open_text(path, encoding) as probe:
        is_json = _looks_like_json_lines(probe)
    with _open_text(path, encoding) as text:
        if is_json:
            yield from _read_json_lines(text, stats, require_priority, scheme, changelog)
        else:
            yield from _read_csv(text, path, stats, require_priority, scheme)


@dataclass(frozen=True, slots=True)
class ChangelogRecord:
    """One fetched issue as ``monitor`` reads it: who changed its priority, and when."""

    key: str
    project: str
    priority: str
    #: Jira's ``created`` timestamp as written ("" when the line has none).
    created: str
    #: None when the line has no ``priority_changes`` (not fetched with --changelog).
    priority_changes: tuple[PriorityChange, ...] | None
    row: int


def read_changelogs(
    path: str | Path, *, stats: ReadStats | None = None
) -> Iterator[ChangelogRecord]:
    """Yield the issues of a JSON-lines file with their priority changes.

    Unlike ``read_tickets`` a line needs no text or known priority: a decision of the bot
    counts whatever the ticket says. Undecodable, malformed lines and malformed
    ``priority_changes`` are counted in ``stats`` as rejected. A CSV file (which has no
    changelog) raises DatasetError.
    """
    path = Path(path)
    stats = stats if stats is not None else ReadStats()
    stats.source = str(path)
    with _open_text(path, "utf-8") as probe:
        if not _looks_like_json_lines(probe):
            raise DatasetError(
                f"{path}: not JSON lines; priority changes come from `fetch --changelog`"
            )
    with _open_text(path, "utf-8") as text:
        for row, record in _json_records(text, stats):
            usable, changes = _priority_changes(record, stats, row)
            if not usable:
                continue
            values = _json_values(record)
            fields = record.get("fields")
            created = (fields if isinstance(fields, dict) else record).get("created")
            stats.rows_accepted += 1
            yield ChangelogRecord(
                key=values.get("key", "").strip(),
                project=values.get("project", "").strip(),
                priority=values.get("priority", "").strip(),
                created=created if isinstance(created, str) else "",
                priority_changes=changes,
                row=row,
            )


# --- prepared BlazingText files ------------------------------------------------


def read_prepared(
    path: str | Path, scheme: PriorityScheme = DEFAULT_SCHEME
) -> Iterator[PreparedExample]:
    """Yield ``(label, text)`` of each line of a prepared BlazingText file.

    Every line must start with exactly one of the scheme's labels; anything else
    raises DatasetError naming the line, since these files are written by
    ``prepare`` (or by hand for SageMaker) and a bad line means a bad file.
    Empty lines are skipped.
    """
    path = Path(path)
    with _open_text(path, "utf-8") as text:
        for number, line in enumerate(text, start=1):
            line = line.strip()
            if not line:
                continue
            if not _decodable([line]):
                raise DatasetError(f"{path}:{number}: not valid UTF-8")
            label, _, rest = line.partition(" ")
            try:
                scheme.from_label(label)
            except UnknownLabelError:
                raise DatasetError(
                    f"{path}:{number}: expected a line starting with __label__1..{len(scheme)}, "
                    f"got {label[:40]!r}"
                ) from None
            if rest.startswith(LABEL_PREFIX):
                raise DatasetError(f"{path}:{number}: more than one label on a line")
            yield PreparedExample(label=label, text=rest.strip(), line=number)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the file's bytes as stored (compressed, if it is)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
