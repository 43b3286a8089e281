"""The request's JSON Schema as the service reads it: one ``oneOf`` branch per form.

pydantic describes ``PredictRequest`` and ``Ticket`` as one object of optional
fields, because one model validates every form (so that an error names the
field and says why). The service accepts more exactly than that: one form per
ticket (``Ticket.forms``), a field of another form only as null, no unknown
field beside a title or a text, and a word to classify. This turns pydantic's
field schemas into that: a component per form, ``PredictRequest`` and
``Ticket`` a ``oneOf`` of them (each valid body matches exactly one, since each
requires its own field as non-null and allows the others only as null), and
the word the normaliser needs as a pattern (``TEXT_WITH_A_WORD``).

What no schema says is left to the service's 400 answers: a ticket whose only
letters are inside Jira markup (``{code}`` blocks, macros), HTML entities or
past the first 32,768 characters (the normaliser reads no further); JSON nested
deeper than 64 levels, and integers of more than 4,300 digits.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterable
from functools import cache
from typing import Any

from jira_priority.schemas import Ticket

Schema = dict[str, Any]
PREFIX = "#/components/schemas/"
#: Names of the generated components: the ticket forms as batch items, and as requests.
TICKET_FORMS = {"title": "TitleTicket", "text": "TextTicket", "issue": "JiraIssueTicket"}
REQUEST_FORMS = {"title": "TitleRequest", "text": "TextRequest", "issue": "JiraIssueRequest"}
BATCH_REQUEST = "BatchRequest"
#: A string the normaliser finds a word in: one letter or digit is enough.
TEXT_WITH_A_WORD = "TextWithAWord"
#: Atlassian Document Format trees that hold a word (what ``adf_text`` reads: text nodes,
#: found through ``content`` lists, and lists inside them).
ADF_NODE = "AdfNodeWithAWord"
ADF_CONTENT = "AdfContentWithAWord"

FORM_DESCRIPTIONS = {
    "title": "A ticket as its title and optional description; one of them must hold a "
    "letter or a digit.",
    "text": "A ticket as one text (read as a description: {code} blocks are dropped).",
    "issue": "A Jira webhook payload: its issue is read, every other field ignored, so a "
    "whole webhook body can be forwarded as it is.",
}
NULL_ONLY: Schema = {"type": "null", "description": "Another form's field: null or absent."}
#: The runs of characters the normaliser's tokens are made of (``jira_priority.text``).
_WORD_CHARACTERS = re.compile(r"[^\W_]+")


@cache
def word_character_class() -> str:
    r"""``[...]``: every letter and digit (Unicode L and N) of this Python, spelled out.

    Exactly what the normaliser reads as a word character. ``[\p{L}\p{N}]`` says
    nearly the same in JSON Schema, but Python's ``re`` (openapi-spec-validator,
    generated Python clients) cannot read it, Schemathesis reads it as Latin
    letters and ASCII digits, and a newer Unicode would admit letters this Python
    does not know. Literal ranges mean the same to every engine that reads
    patterns by code point (ECMA-262 with the u flag, as JSON Schema does).
    """
    everything = "".join(map(chr, range(0xD800))) + "".join(
        map(chr, range(0xE000, sys.maxunicode + 1))
    )
    ranges = []
    for run in _WORD_CHARACTERS.finditer(everything):
        first, last = run.group()[0], run.group()[-1]
        ranges.append(first if first == last else f"{first}-{last}")
    return f"[{''.join(ranges)}]"


def exact_request_schemas(schemas: dict[str, Schema], max_batch_size: int) -> None:
    """Rewrite pydantic's ``PredictRequest``, ``Ticket`` and ``JiraFields`` in ``schemas``.

    ``schemas`` is an OpenAPI document's ``components/schemas``, as powertools
    generated it from the models; ``max_batch_size`` is the function's MAX_BATCH_SIZE.
    """
    request = schemas["PredictRequest"]
    fields: dict[str, Schema] = request["properties"]
    schemas[TEXT_WITH_A_WORD] = {
        "type": "string",
        "minLength": 1,
        "pattern": word_character_class(),
        "description": "Text with a letter or a digit (Unicode general categories L and N, "
        "spelled out): the service needs a word to classify.",
    }
    for form, name in TICKET_FORMS.items():
        schemas[name] = _form(form, fields, extra={})
    schemas["Ticket"] = _one_of(schemas["Ticket"], TICKET_FORMS.values())
    beside = {"k": fields["k"], "tickets": NULL_ONLY}
    for form, name in REQUEST_FORMS.items():
        schemas[name] = _form(form, fields, extra=beside)
    schemas[BATCH_REQUEST] = _batch(fields, max_batch_size)
    schemas["PredictRequest"] = _one_of(request, [*REQUEST_FORMS.values(), BATCH_REQUEST])
    schemas["JiraFields"]["anyOf"] = [
        _with_a_word("summary"),
        _with_a_word("description"),
        {"required": ["description"], "properties": {"description": ref(ADF_NODE)}},
    ]
    schemas[ADF_NODE] = {
        "type": "object",
        "description": "An Atlassian Document Format node whose text, its own or that of its "
        "content, holds a letter or a digit.",
        "anyOf": [
            _with_a_word("text"),
            {"required": ["content"], "properties": {"content": ref(ADF_CONTENT)}},
        ],
    }
    schemas[ADF_CONTENT] = {
        "type": "array",
        "contains": {"anyOf": [ref(ADF_NODE), ref(ADF_CONTENT)]},
    }


def ref(name: str) -> Schema:
    return {"$ref": PREFIX + name}


def _with_a_word(field: str) -> Schema:
    """``field`` is present and a string with a letter or a digit."""
    return {"required": [field], "properties": {field: ref(TEXT_WITH_A_WORD)}}


def _one_of(pydantic_schema: Schema, names: Iterable[str]) -> Schema:
    return {
        "title": pydantic_schema["title"],
        "description": pydantic_schema.get("description", ""),
        "oneOf": [ref(name) for name in names],
    }


def _not_null(schema: Schema) -> Schema:
    """pydantic's ``X | None`` field schema as X, keeping its description."""
    (only,) = [option for option in schema["anyOf"] if option != {"type": "null"}]
    kept = {key: value for key, value in schema.items() if key in {"title", "description"}}
    return {**copy.deepcopy(only), **kept}


def _ticket_fields() -> list[str]:
    return [field for form in Ticket.forms.values() for field in form]


def _form(form: str, fields: dict[str, Schema], extra: dict[str, Schema]) -> Schema:
    properties: dict[str, Schema] = {}
    for field in _ticket_fields():
        if field == form:
            properties[field] = _not_null(fields[field])
        elif field in Ticket.forms[form]:
            properties[field] = copy.deepcopy(fields[field])
        else:
            properties[field] = NULL_ONLY
    properties.update(copy.deepcopy(extra))
    schema: Schema = {
        "type": "object",
        "description": FORM_DESCRIPTIONS[form],
        "properties": properties,
        "required": [form],
        # Beside an issue anything goes: the rest of the webhook body.
        "additionalProperties": form == Ticket.open_form,
    }
    if form == "title":
        schema["anyOf"] = [_with_a_word("title"), _with_a_word("description")]
    elif form == "text":
        properties["text"] = ref(TEXT_WITH_A_WORD) | {"description": fields["text"]["description"]}
    return schema


def _batch(fields: dict[str, Schema], max_batch_size: int) -> Schema:
    tickets = _not_null(fields["tickets"]) | {"items": ref("Ticket"), "maxItems": max_batch_size}
    return {
        "type": "object",
        "description": "A batch of tickets, answered in order.",
        "properties": {
            "tickets": tickets,
            "k": copy.deepcopy(fields["k"]),
            **dict.fromkeys(_ticket_fields(), NULL_ONLY),
        },
        "required": ["tickets"],
        "additionalProperties": False,
    }
