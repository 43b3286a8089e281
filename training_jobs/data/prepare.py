"""``prepare``: Jira tickets in, BlazingText training and validation files out.

Each valid ticket becomes one line ``__label__N token token ...`` built by the
same normaliser the Lambda uses, so a newline, comma or quote in a ticket can
never break a line. The split is stratified by priority and seeded; projects
named with ``--holdout-project`` go whole to ``holdout.txt`` (never to train or
validation) to measure cross-project generalisation.

With ``--exclude-bot`` (JSON lines from ``fetch --changelog``), a ticket whose
current priority the bot set and no one changed after it is left out (its label is
the model's own answer, not a person's); a ticket a person changed after the bot
keeps the person's priority and, with ``--correction-weight K``, is written K times
to train.txt (never repeated in validation or holdout).

Every row read is accounted for in ``manifest.json``: written, rejected (by
reason, from ``training_jobs.data.readers``), filtered out by an option (the bot's
unconfirmed tickets included, also counted as ``excluded_bot_set``), or dropped as a
duplicate. ``rows_read`` always equals the sum of the four.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jira_priority.labels import DEFAULT_SCHEME, PriorityScheme
from jira_priority.text import MAX_TOKENS, normalise_ticket
from training_jobs.console import printable
from training_jobs.data.changelog import Bots, Review, review
from training_jobs.data.manifest import HOLDOUT_FILE, MANIFEST_FILE, projects_file
from training_jobs.data.readers import DatasetError, ReadStats, TicketRow, file_sha256, read_tickets

DEFAULT_OUTPUT_DIR = Path("build/data")
TRAIN_FILE = "train.txt"
VALIDATION_FILE = "validation.txt"


@dataclass(frozen=True)
class PrepareOptions:
    validation_fraction: float = 0.2
    seed: int = 42
    max_tokens: int = MAX_TOKENS
    statuses: frozenset[str] = frozenset()
    issue_types: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()
    holdout_projects: frozenset[str] = frozenset()
    drop_duplicates: bool = True
    oversample: float = 0.0
    encoding: str = "utf-8"
    scheme: PriorityScheme = DEFAULT_SCHEME
    #: The bot's accounts (accountId, Data Center name or display name): its unconfirmed
    #: tickets are left out, the ones a person corrected kept.
    exclude_bots: frozenset[str] = frozenset()
    #: How many times a corrected ticket goes into train.txt.
    correction_weight: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.validation_fraction < 1:
            raise ValueError("the validation fraction must be in [0, 1)")
        if not 1 <= self.max_tokens <= MAX_TOKENS:
            # Serving cuts every ticket at MAX_TOKENS; training on more would be skew.
            raise ValueError(f"max tokens must be between 1 and {MAX_TOKENS}")
        if not 0 <= self.oversample <= 1:
            raise ValueError("oversample must be between 0 (off) and 1 (balance fully)")
        if self.projects and not self.holdout_projects <= self.projects:
            excluded = ", ".join(sorted(self.holdout_projects - self.projects))
            raise ValueError(f"held-out project(s) {excluded} are excluded by --project")
        if not 1 <= self.correction_weight <= 100:
            raise ValueError("the correction weight must be between 1 and 100")
        if self.correction_weight > 1 and not self.exclude_bots:
            raise ValueError(
                "--correction-weight weighs what people changed after the bot: "
                "name the bot with --exclude-bot"
            )

    @property
    def bots(self) -> Bots | None:
        return Bots.of(self.exclude_bots) if self.exclude_bots else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "validation_fraction": self.validation_fraction,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "statuses": sorted(self.statuses),
            "issue_types": sorted(self.issue_types),
            "projects": sorted(self.projects),
            "holdout_projects": sorted(self.holdout_projects),
            "drop_duplicates": self.drop_duplicates,
            "oversample": self.oversample,
            "encoding": self.encoding,
            "scheme": self.scheme.as_dict(),
            "exclude_bots": sorted(self.exclude_bots),
            "correction_weight": self.correction_weight,
        }


@dataclass(frozen=True, slots=True)
class Example:
    label: str
    text: str
    project: str
    #: The Jira key (``HIVE-123``): its number orders a project's tickets by creation.
    key: str = ""
    #: A person changed its priority after the bot (the label is theirs).
    corrected: bool = False


@dataclass
class PrepareResult:
    sources: list[ReadStats] = field(default_factory=list)
    filtered: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    train: list[Example] = field(default_factory=list)
    validation: list[Example] = field(default_factory=list)
    holdout: list[Example] = field(default_factory=list)
    oversampled: int = 0
    #: --exclude-bot: tickets left out (the bot's priority, unconfirmed), tickets kept that a
    #: person corrected after the bot, their extra copies in train, and tickets without a
    #: changelog (kept: nothing says the bot touched them).
    excluded_bot_set: int = 0
    corrected: int = 0
    correction_copies: int = 0
    with_changelog: int = 0
    without_changelog: int = 0

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sources)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.sources)

    @property
    def rows_written(self) -> int:
        """Distinct tickets written (oversampled and correction copies not counted)."""
        copies = self.oversampled + self.correction_copies
        return len(self.train) - copies + len(self.validation) + len(self.holdout)

    @property
    def rejected(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for stats in self.sources:
            total.update({str(reason): n for reason, n in stats.rejected.items()})
        return total

    def priority_values(self, unknown_only: bool = False) -> Counter[str]:
        """Priority values seen in every source (only those outside the scheme if asked)."""
        total: Counter[str] = Counter()
        for stats in self.sources:
            total.update(stats.unknown_priorities if unknown_only else stats.priority_values)
        return total


def scheme_misfit(result: PrepareResult, scheme: PriorityScheme) -> str | None:
    """Why the scheme does not fit the data, if most rows with a priority are outside it."""
    seen = result.priority_values()
    unknown = result.priority_values(unknown_only=True)
    with_priority, outside = sum(seen.values()), sum(unknown.values())
    if not with_priority or outside * 2 <= with_priority:
        return None
    values = ", ".join(f"{printable(value, 40)} ({n})" for value, n in seen.most_common(20))
    return (
        f"{outside} of {with_priority} rows have a priority outside the {scheme.name} scheme "
        f"({', '.join(scheme.names)}); the values seen: {values}. Choose the site's scheme "
        "with --scheme (jira-cloud, a file, or names lowest first)"
    )


def fold_names(values: Iterable[str]) -> frozenset[str]:
    """Names compared without case or surrounding blanks (projects, statuses, types)."""
    return frozenset(v.strip().casefold() for v in values if v.strip())


def _filter_reason(ticket: TicketRow, options: PrepareOptions) -> str | None:
    if options.statuses and ticket.status.casefold() not in options.statuses:
        return "status"
    if options.issue_types and ticket.issue_type.casefold() not in options.issue_types:
        return "issue_type"
    project = ticket.project.casefold()
    if options.projects and project not in options.projects:
        return "project"
    return None


def collect(paths: Sequence[Path], options: PrepareOptions) -> PrepareResult:
    """Read, filter, normalise, de-duplicate and split the tickets of ``paths``."""
    result = PrepareResult()
    seen: set[str] = set()
    by_label: dict[str, list[Example]] = defaultdict(list)
    projects_seen: Counter[str] = Counter()
    bots = options.bots
    for path in paths:
        stats = ReadStats()
        result.sources.append(stats)
        tickets = read_tickets(
            path,
            stats=stats,
            encoding=options.encoding,
            scheme=options.scheme,
            changelog=bots is not None,
        )
        for ticket in tickets:
            projects_seen[ticket.project.casefold()] += 1
            reason = _filter_reason(ticket, options)
            if reason is not None:
                result.filtered[reason] += 1
                continue
            corrected = False
            if bots is not None:
                verdict = _bot_review(ticket, bots, result)
                if verdict is Review.UNCONFIRMED:
                    result.filtered[BOT_SET] += 1
                    continue
                corrected = verdict is Review.CORRECTED
            text = normalise_ticket(ticket.title, ticket.description, options.max_tokens)
            if options.drop_duplicates:
                if text in seen:
                    result.duplicates += 1
                    continue
                seen.add(text)
            level = ticket.level(options.scheme)
            assert level is not None  # read_tickets rejects priorities outside the scheme
            example = Example(level.label, text, ticket.project, ticket.key, corrected)
            result.corrected += corrected
            if ticket.project.casefold() in options.holdout_projects:
                result.holdout.append(example)
            else:
                by_label[example.label].append(example)
    _check_projects_exist(options, projects_seen)
    if bots is not None:
        _check_changelogs(result)
    rng = random.Random(options.seed)
    for label in sorted(by_label):
        examples = by_label[label]
        rng.shuffle(examples)
        n_validation = round(len(examples) * options.validation_fraction)
        if n_validation == len(examples) and n_validation > 0:
            n_validation -= 1  # keep every priority in the training file
        result.validation.extend(examples[:n_validation])
        result.train.extend(examples[n_validation:])
    if options.correction_weight > 1:
        copies = [e for e in result.train if e.corrected] * (options.correction_weight - 1)
        result.train.extend(copies)
        result.correction_copies = len(copies)
    if options.oversample > 0:
        result.oversampled = _oversample(result.train, options.oversample, rng)
    # fastText's SGD reads the file in order: a file sorted by priority trains badly.
    rng.shuffle(result.train)
    rng.shuffle(result.validation)
    return result


#: The filter reason of a ticket left out by --exclude-bot.
BOT_SET = "bot_set"


def _bot_review(ticket: TicketRow, bots: Bots, result: PrepareResult) -> Review:
    """The ticket's review by people after the bot (NO_BOT without a changelog, counted)."""
    if ticket.priority_changes is None:
        result.without_changelog += 1
        return Review.NO_BOT
    result.with_changelog += 1
    verdict = review(ticket.priority_changes, bots)
    result.excluded_bot_set += verdict is Review.UNCONFIRMED
    return verdict


def _check_changelogs(result: PrepareResult) -> None:
    """DatasetError if --exclude-bot cannot tell anything: no row carries priority changes."""
    if result.without_changelog and not result.with_changelog:
        raise DatasetError(
            "--exclude-bot needs the tickets' priority changes, and no row has "
            '"priority_changes": fetch them with `fetch --changelog`'
        )


def _check_projects_exist(options: PrepareOptions, projects_seen: Counter[str]) -> None:
    """DatasetError naming the data's projects if a held-out or kept project has no ticket."""
    missing = sorted((options.holdout_projects | options.projects) - set(projects_seen))
    if missing:
        known = ", ".join(name.upper() for name, _ in projects_seen.most_common() if name)
        raise DatasetError(
            f"no ticket of project {', '.join(m.upper() for m in missing)} in the data "
            f"(its projects: {known or 'none: the files have no project column'})"
        )


def _oversample(train: list[Example], ratio: float, rng: random.Random) -> int:
    """Repeat random tickets of each minority priority up to ``ratio`` x the largest count."""
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in train:
        by_label[example.label].append(example)
    if not by_label:
        return 0
    target = round(max(len(v) for v in by_label.values()) * ratio)
    added = 0
    for label in sorted(by_label):
        examples = by_label[label]
        missing = target - len(examples)
        if missing > 0:
            extra = rng.choices(examples, k=missing)
            train.extend(extra)
            added += missing
    return added


def _write_lines(path: Path, examples: Sequence[Example]) -> None:
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        for example in examples:
            out.write(f"{example.label} {example.text}\n")
    partial.replace(path)


def _write_projects(path: Path, examples: Sequence[Example]) -> None:
    """One project per line of the lines file (names folded, blank when the row had none)."""
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        for example in examples:
            out.write(" ".join(example.project.split()).upper() + "\n")
    partial.replace(path)


def with_default_priority(
    scheme: PriorityScheme, label_counts: Counter[str]
) -> tuple[PriorityScheme, bool]:
    """The scheme with its default priority, and whether it was inferred from the counts.

    A scheme that declares none takes the most common label's priority: Jira gives every
    new issue its default, so most tickets keep it.
    """
    if scheme.default is not None or not label_counts:
        return scheme, False
    label = label_counts.most_common(1)[0][0]
    return scheme.with_default(scheme.from_label(label).value), True


def _counts(examples: Sequence[Example], scheme: PriorityScheme) -> dict[str, int]:
    counts = Counter(example.label for example in examples)
    return {label: counts[label] for label in scheme.labels if counts[label]}


def _named_counts(examples: Sequence[Example], scheme: PriorityScheme) -> dict[str, int]:
    return {scheme.from_label(label).value: n for label, n in _counts(examples, scheme).items()}


def write_outputs(
    result: PrepareResult, paths: Sequence[Path], output_dir: Path, options: PrepareOptions
) -> dict[str, Any]:
    """Write the line files and the manifest; return the manifest."""
    output_dir.mkdir(parents=True, exist_ok=True)
    files = {TRAIN_FILE: result.train, VALIDATION_FILE: result.validation}
    if options.holdout_projects:
        files[HOLDOUT_FILE] = result.holdout
    for name, examples in files.items():
        _write_lines(output_dir / name, examples)
    _write_projects(projects_file(output_dir / TRAIN_FILE), result.train)
    stale = output_dir / HOLDOUT_FILE
    if not options.holdout_projects and stale.exists():
        stale.unlink()  # a holdout file from an earlier run would not match this manifest
    manifest: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": [
            {**stats.as_dict(), "sha256": file_sha256(path), "bytes": path.stat().st_size}
            for stats, path in zip(result.sources, paths, strict=True)
        ],
        "settings": options.as_dict(),
        "rows": {
            "read": result.rows_read,
            "rejected": result.rows_rejected,
            "rejected_by_reason": dict(sorted(result.rejected.items())),
            "filtered_out": sum(result.filtered.values()),
            "filtered_out_by": dict(sorted(result.filtered.items())),
            "duplicates_dropped": result.duplicates,
            "written": result.rows_written,
            "oversampled_copies": result.oversampled,
        },
        **(_bot_manifest(result, options) if options.exclude_bots else {}),
        "files": {
            name: {
                "lines": len(examples),
                "labels": _counts(examples, options.scheme),
                "priorities": _named_counts(examples, options.scheme),
            }
            for name, examples in files.items()
        },
    }
    options.scheme.write(output_dir)  # train-local takes the scheme from beside train.txt
    partial = output_dir / (MANIFEST_FILE + ".part")
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    partial.replace(output_dir / MANIFEST_FILE)
    return manifest


def _bot_manifest(result: PrepareResult, options: PrepareOptions) -> dict[str, Any]:
    """What --exclude-bot did: left out, kept as people corrected it, repeated in train."""
    return {
        "excluded_bot_set": result.excluded_bot_set,
        "bot_corrections": {
            "tickets": result.corrected,
            "weight": options.correction_weight,
            "train_copies": result.correction_copies,
        },
        "changelogs": {
            "tickets_with": result.with_changelog,
            "tickets_without": result.without_changelog,
        },
    }


def print_summary(result: PrepareResult, output_dir: Path, manifest: dict[str, Any]) -> None:
    rows = manifest["rows"]
    print(
        f"read {rows['read']} rows: wrote {rows['written']}, rejected {rows['rejected']}, "
        f"filtered out {rows['filtered_out']}, duplicates dropped {rows['duplicates_dropped']}"
    )
    for stats in result.sources:
        for reason, n in sorted(stats.rejected.items()):
            examples = ", ".join(str(r) for r in stats.rejected_rows.get(reason, []))
            print(f"  rejected {n} x {reason} in {stats.source} (rows {examples}, ...)")
        if stats.unknown_priorities:
            values = ", ".join(
                f"{printable(v, 40)} ({n})" for v, n in stats.unknown_priorities.most_common(10)
            )
            scheme = manifest["settings"]["scheme"]["name"]
            print(f"  priorities outside the {scheme} scheme: {values}")
    for name, info in manifest["files"].items():
        counts = ", ".join(f"{p} {n}" for p, n in info["priorities"].items())
        print(f"  {output_dir / name}: {info['lines']} lines ({counts})")
    if result.oversampled:
        print(f"  train includes {result.oversampled} oversampled copies of minority tickets")
    if "excluded_bot_set" in manifest:
        corrections = manifest["bot_corrections"]
        print(
            f"  left out {manifest['excluded_bot_set']} tickets whose priority the bot set and "
            f"no one changed; kept {corrections['tickets']} a person changed after the bot"
            + (
                f" ({corrections['train_copies']} extra copies in train, weight "
                f"{corrections['weight']})"
                if corrections["train_copies"]
                else ""
            )
        )
        without = manifest["changelogs"]["tickets_without"]
        if without:
            print(f"  {without} tickets have no priority_changes (kept as they are)")
    print(f"  manifest: {output_dir / MANIFEST_FILE}")
