"""The one map between Jira priorities and BlazingText labels, per priority scheme.

A priority scheme is the ordered list of a Jira site's priority names, lowest
to highest: ``__label__1`` is the least urgent name and ``__label__N`` the
most, so label numbers are also ordinal ranks. Two are built in:

* ``apache`` (the default, the original tutorial's): Optional, Trivial, Minor,
  Major, Critical, Blocker, whose priorities are the ``Priority`` members;
* ``jira-cloud``: a Jira Cloud site's default Lowest, Low, Medium, High, Highest.

A site's own scheme is a list of names (``"Low,Normal,High,Urgent"``) or a
small JSON file; a file can instead map the site's names onto another scheme
(``{"scheme": "jira-cloud", "map": {"P1": "Highest", ...}}``). The scheme a
model was trained with travels beside it as ``scheme.json`` (``SCHEME_FILE``).
Training, serving and evaluation all import this module; nothing else spells
out a label.

A scheme also knows its **default**: the priority Jira gives a new issue
(apache: Major; jira-cloud: Medium; a site's own declares it, ``"default"`` in
its file or a ``*`` after the name in a list: ``"Low,Normal*,High"``). An answer
equal to the default changes nothing in Jira; ``urgency`` is the chance the
right priority is above it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

LABEL_PREFIX = "__label__"
#: The scheme's file beside a model (``model.bin``) and inside a model archive.
SCHEME_FILE = "scheme.json"
#: A scheme needs two names to rank; a label map beyond this is surely a mistake.
MAX_SCHEME_SIZE = 20
#: Longest priority or scheme name (Jira's own names are a word or two).
MAX_NAME_LENGTH = 60
#: Characters no name may hold: they would break a Markdown table, HTML or a shell line.
_FORBIDDEN_IN_NAMES = frozenset("|<>`")
#: Unicode categories no name may hold: controls (ESC, CR/LF, tab, bidi overrides ...),
#: unassigned and private code points, lone surrogates, line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class UnknownLabelError(ValueError):
    """A label or priority name outside the scheme."""


class SchemeError(ValueError):
    """A priority scheme that cannot be used (unknown name, bad file, bad names)."""


class Level(Protocol):
    """A priority of some scheme: its name, rank (1 = lowest) and BlazingText label."""

    @property
    def value(self) -> str: ...

    @property
    def rank(self) -> int: ...

    @property
    def label(self) -> str: ...


class Priority(StrEnum):
    """The Apache scheme's priorities (the default scheme)."""

    OPTIONAL = "Optional"
    TRIVIAL = "Trivial"
    MINOR = "Minor"
    MAJOR = "Major"
    CRITICAL = "Critical"
    BLOCKER = "Blocker"

    @property
    def rank(self) -> int:
        """1 for Optional up to 6 for Blocker (the label number)."""
        return PRIORITIES.index(self) + 1

    @property
    def label(self) -> str:
        return f"{LABEL_PREFIX}{self.rank}"


PRIORITIES: tuple[Priority, ...] = tuple(Priority)
LABELS: tuple[str, ...] = tuple(p.label for p in PRIORITIES)


@dataclass(frozen=True)
class SchemePriority:
    """A priority of a scheme other than Apache's."""

    value: str
    rank: int

    @property
    def label(self) -> str:
        return f"{LABEL_PREFIX}{self.rank}"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PriorityScheme:
    """An ordered list of priority names (lowest first), and site names mapped onto them."""

    name: str
    priorities: tuple[Level, ...]
    #: A site's name (case-folded) -> the scheme's name it stands for.
    aliases: Mapping[str, str] = field(default_factory=dict)
    #: The priority Jira gives a new issue (a name of ``priorities``); None: not declared.
    default: str | None = None

    def __post_init__(self) -> None:
        if self.default is not None and self.default not in self.names:
            raise SchemeError(
                f"default priority {self.default!r} is not one of the {self.name} scheme's "
                f"priorities ({', '.join(self.names)})"
            )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.value for p in self.priorities)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(p.label for p in self.priorities)

    def __len__(self) -> int:
        return len(self.priorities)

    def from_label(self, label: str) -> Level:
        """``__label__N`` -> the scheme's N-th priority; raises UnknownLabelError otherwise."""
        number = label.removeprefix(LABEL_PREFIX)
        if label.startswith(LABEL_PREFIX) and number.isascii() and number.isdigit():
            rank = int(number)
            if 1 <= rank <= len(self.priorities) and str(rank) == number:
                return self.priorities[rank - 1]
        raise UnknownLabelError(f"unknown label {label!r} for the {self.name} scheme")

    def from_name(self, name: str) -> Level:
        """A site's priority name, case-insensitive, through the aliases; raises otherwise."""
        key = name.strip().casefold()
        key = self.aliases.get(key, key).casefold()
        for priority in self.priorities:
            if priority.value.casefold() == key:
                return priority
        raise UnknownLabelError(f"unknown priority {name!r} for the {self.name} scheme")

    @property
    def default_level(self) -> Level | None:
        """The default priority as a level of the scheme, if declared."""
        return self.from_name(self.default) if self.default is not None else None

    def with_default(self, name: str | None) -> PriorityScheme:
        """The same scheme with ``name`` (any case, or a site alias) as its default."""
        if name is None:
            return self
        try:
            default = self.from_name(name).value
        except UnknownLabelError:
            raise SchemeError(
                f"default priority {name!r} is not one of the {self.name} scheme's "
                f"priorities ({', '.join(self.names)})"
            ) from None
        if default == self.default:
            return self
        return PriorityScheme(self.name, self.priorities, self.aliases, default)

    def as_dict(self) -> dict[str, Any]:
        """What ``scheme.json`` holds; ``scheme_from_dict`` reads it back."""
        data: dict[str, Any] = {"name": self.name, "priorities": list(self.names)}
        if self.default is not None:
            data["default"] = self.default
        if self.aliases:
            data["map"] = dict(sorted(self.aliases.items()))
        return data

    def write(self, directory: Path) -> Path:
        """Write ``scheme.json`` into ``directory`` (atomically); return its path."""
        path = directory / SCHEME_FILE
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
        partial.replace(path)
        return path


def _checked_name(value: object, where: str) -> str:
    """``value`` stripped, if it can be shown anywhere (terminal, Markdown, HTML, a plot)."""
    if not isinstance(value, str) or not value.strip():
        raise SchemeError(f"{where} must be a non-empty string")
    name = value.strip()
    shown = repr(name[:MAX_NAME_LENGTH]) + ("..." if len(name) > MAX_NAME_LENGTH else "")
    if len(name) > MAX_NAME_LENGTH:
        raise SchemeError(f"{where} {shown} is longer than {MAX_NAME_LENGTH} characters")
    for char in name:
        if char in _FORBIDDEN_IN_NAMES or unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise SchemeError(
                f"{where} {shown} holds {char!r}: a name may not hold control characters, "
                "line breaks or any of | < > `"
            )
    return name


def _checked_names(names: Sequence[object], where: str) -> tuple[str, ...]:
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise SchemeError(f"{where}: every priority name must be a non-empty string")
    cleaned = tuple(_checked_name(n, f"{where}: priority name") for n in names)
    if not 2 <= len(cleaned) <= MAX_SCHEME_SIZE:
        raise SchemeError(f"{where}: a scheme has 2 to {MAX_SCHEME_SIZE} priorities")
    folded = [n.casefold() for n in cleaned]
    if len(set(folded)) != len(folded):
        raise SchemeError(f"{where}: a priority name occurs twice")
    return cleaned


def custom_scheme(name: str, names: Sequence[object], default: str | None = None) -> PriorityScheme:
    """A site's own scheme from its names, lowest first, and its default priority if known."""
    cleaned = _checked_names(names, f"scheme {name!r}")
    if tuple(n.casefold() for n in cleaned) == tuple(p.casefold() for p in PRIORITIES):
        # the same names in the same order: keep the Priority members (and Major as default)
        return APACHE.with_default(default)
    priorities = tuple(SchemePriority(n, rank) for rank, n in enumerate(cleaned, start=1))
    return PriorityScheme(name=name, priorities=priorities).with_default(default)


APACHE = PriorityScheme(name="apache", priorities=PRIORITIES, default=Priority.MAJOR.value)
JIRA_CLOUD = custom_scheme("jira-cloud", ["Lowest", "Low", "Medium", "High", "Highest"], "Medium")
BUILT_IN_SCHEMES: dict[str, PriorityScheme] = {s.name: s for s in (APACHE, JIRA_CLOUD)}
DEFAULT_SCHEME = APACHE


def with_aliases(scheme: PriorityScheme, mapping: Mapping[object, object]) -> PriorityScheme:
    """``scheme`` reading a site's names through ``mapping`` (site name -> scheme name)."""
    aliases: dict[str, str] = {}
    for site_name, target in mapping.items():
        if not isinstance(site_name, str) or not isinstance(target, str) or not site_name.strip():
            raise SchemeError("map: site names and their priorities must be strings")
        try:
            aliases[site_name.strip().casefold()] = scheme.from_name(target).value
        except UnknownLabelError:
            raise SchemeError(
                f"map: {target!r} is not a priority of the {scheme.name} scheme "
                f"({', '.join(scheme.names)})"
            ) from None
    return PriorityScheme(scheme.name, scheme.priorities, aliases, scheme.default)


def scheme_from_dict(data: object, where: str = "scheme") -> PriorityScheme:
    """A scheme from its JSON form.

    ``{"name": "acme", "priorities": ["Low", ..., "Urgent"]}`` names a site's
    own scheme; ``{"scheme": "jira-cloud", "map": {"P1": "Highest", ...}}``
    maps a site's names onto a built-in one. Both may carry a ``map``.
    """
    if not isinstance(data, dict):
        raise SchemeError(f"{where}: expected a JSON object")
    unknown = sorted(set(data) - {"name", "priorities", "scheme", "map", "default"})
    if unknown:
        raise SchemeError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if "priorities" in data:
        names = data["priorities"]
        if not isinstance(names, list):
            raise SchemeError(f"{where}: 'priorities' must be a list of names, lowest first")
        name = _checked_name(data.get("name", "custom"), f"{where}: 'name'")
        scheme = custom_scheme(name, names)
    elif isinstance(data.get("scheme"), str):
        scheme = built_in_scheme(data["scheme"])
    else:
        raise SchemeError(f"{where}: give 'priorities' (lowest first) or 'scheme' (a built-in)")
    mapping = data.get("map", {})
    if not isinstance(mapping, dict):
        raise SchemeError(f"{where}: 'map' must be an object of site name -> priority")
    default = data.get("default")
    if default is not None and (not isinstance(default, str) or not default.strip()):
        raise SchemeError(f"{where}: 'default' must be a priority name")
    scheme = with_aliases(scheme, mapping) if mapping else scheme
    try:
        return scheme.with_default(default)
    except SchemeError as exc:
        raise SchemeError(f"{where}: {exc}") from None


def built_in_scheme(name: str) -> PriorityScheme:
    try:
        return BUILT_IN_SCHEMES[name.strip().casefold()]
    except KeyError:
        raise SchemeError(
            f"unknown priority scheme {name!r}; built in: {', '.join(BUILT_IN_SCHEMES)}"
        ) from None


def read_scheme_file(path: Path) -> PriorityScheme:
    """A scheme from a JSON file (``scheme.json`` or a site's own)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemeError(f"cannot read the scheme file {path}: {exc}") from exc
    except ValueError as exc:
        raise SchemeError(f"{path} is not JSON: {exc}") from exc
    return scheme_from_dict(data, str(path))


def parse_scheme(value: str, files: bool = True) -> PriorityScheme:
    """A built-in scheme's name, names lowest first (``"Low,High,Urgent"``), or (with
    ``files``) a scheme file."""
    text = value.strip()
    if text.casefold() in BUILT_IN_SCHEMES:
        return BUILT_IN_SCHEMES[text.casefold()]
    path = Path(text).expanduser()
    if files and (path.suffix.casefold() == ".json" or path.is_file()):
        return read_scheme_file(path)
    if "," in text:
        return _listed_scheme(text.split(","))
    raise SchemeError(
        f"{value!r} is not a built-in scheme ({', '.join(BUILT_IN_SCHEMES)})"
        + (", a scheme file," if files else "")
        + " or a comma-separated list of names lowest first"
    )


def _listed_scheme(names: Sequence[str]) -> PriorityScheme:
    """``["Low", "Normal*", "High"]``: names lowest first, the default marked with ``*``."""
    marked = [n.strip().removesuffix("*").strip() for n in names if n.strip().endswith("*")]
    if len(marked) > 1:
        raise SchemeError("mark at most one priority as the default (with '*')")
    cleaned = [n.strip().removesuffix("*") for n in names]
    return custom_scheme("custom", cleaned, marked[0] if marked else None)


def priority_from_label(label: str) -> Priority:
    """``__label__4`` -> ``Priority.MAJOR`` (Apache scheme); raises UnknownLabelError otherwise."""
    return PRIORITIES[APACHE.from_label(label).rank - 1]


def priority_from_name(name: str) -> Priority:
    """Case-insensitive Apache priority name (``"major"``, ``" Major "``) -> Priority."""
    return PRIORITIES[APACHE.from_name(name).rank - 1]
