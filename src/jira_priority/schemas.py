"""The HTTP contract's shapes: what ``POST /predict`` accepts and answers.

A ticket arrives in one of three JSON shapes (title/description, text, or a
Jira webhook payload); a request is one ticket or ``{"tickets": [...]}``. The
models turn each into plain (title, description) text for the normaliser.
One model validates every shape (so that an error names the field and says
why); ``jira_priority.request_schema`` turns what these models say into the
exact ``oneOf`` of the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from jira_priority.adf import adf_text
from jira_priority.labels import PRIORITIES
from jira_priority.postprocessing import Action

MAX_K = len(PRIORITIES)


def _integral_number(value: object) -> object:
    """2.0 as 2: JSON Schema's ``integer`` is any number without a fraction."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class JiraFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(description="The ticket's summary line.")
    #: Jira Server sends wiki text; Jira Cloud's REST v3 sends an ADF document.
    description: str | dict[str, Any] | None = None

    @field_validator("description", mode="before")
    @classmethod
    def _text_or_document(cls, value: object) -> object:
        if value is None or isinstance(value, str | dict):
            return value
        raise ValueError("must be text or an Atlassian Document Format object")

    def description_text(self) -> str | None:
        if isinstance(self.description, dict):
            return adf_text(self.description)
        return self.description


class JiraIssue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str | None = Field(default=None, description="The issue key, e.g. HIVE-1234.")
    fields: JiraFields


class Ticket(BaseModel):
    """One ticket, in exactly one of the three accepted shapes."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(default=None, description="The ticket's title (summary).")
    description: str | None = Field(default=None, description="The ticket's description.")
    text: str | None = Field(default=None, description="The whole ticket as one text.")
    issue: JiraIssue | None = Field(default=None, description="A Jira webhook's issue.")

    #: The shapes a ticket comes in: the field that names each, and the fields it has. A
    #: field of another shape may only be null (absent); the three shapes exclude each other.
    forms: ClassVar[dict[str, tuple[str, ...]]] = {
        "title": ("title", "description"),
        "text": ("text",),
        "issue": ("issue",),
    }
    #: The shape beside whose field anything goes: ``issue`` comes in a whole webhook body.
    open_form: ClassVar[str] = "issue"
    #: Fields a ticket may have; with ``issue`` anything else is ignored.
    known_fields: ClassVar[frozenset[str]] = frozenset({"title", "description", "text", "issue"})

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_fields(cls, data: Any) -> Any:
        # A misspelt "descripton" would otherwise be dropped without a word. An
        # "issue": null is no webhook body: its neighbours are checked too.
        if isinstance(data, dict) and data.get(cls.open_form) is None:
            unknown = sorted(set(data) - cls.known_fields)
            if unknown:
                raise ValueError(
                    f"unknown field(s) {', '.join(map(repr, unknown))}; "
                    f"expected {', '.join(sorted(cls.known_fields))}"
                )
        return data

    @model_validator(mode="after")
    def _check(self) -> Self:
        self._check_shape()
        return self

    def _check_shape(self) -> None:
        given = [name for name in self.forms if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'title' (with optional 'description'), 'text', or 'issue' "
                f"(a Jira webhook payload); got {', '.join(given) or 'none'}"
            )
        if self.description is not None and "description" not in self.forms[given[0]]:
            raise ValueError("'description' goes with 'title'")

    def __repr__(self) -> str:
        # Never the text: powertools logs a route's arguments at DEBUG (formatting
        # them on every request, ~0.2 ms for a batch), and text must not reach a log.
        given = [name for name in self.forms if getattr(self, name) is not None]
        return f"{type(self).__name__}({', '.join(f'{name}=...' for name in given)})"

    def parts(self) -> tuple[str | None, str | None]:
        """The ticket as (title, description) for the normaliser.

        A whole ``text`` has no known title: it is read as a description, so its
        words weigh one each and its code blocks are dropped.
        """
        if self.issue is not None:
            return self.issue.fields.summary, self.issue.fields.description_text()
        if self.text is not None:
            return None, self.text
        assert self.title is not None  # guaranteed by the validator
        return self.title, self.description


class PredictRequest(Ticket):
    """A single ticket, or a batch in ``tickets``; ``k`` ranked alternatives."""

    tickets: list[Ticket] | None = Field(
        default=None, min_length=1, description="A batch of tickets, answered in order."
    )
    k: Annotated[int, BeforeValidator(_integral_number)] = Field(
        default=1, ge=1, le=MAX_K, strict=True, description="How many ranked priorities to return."
    )

    known_fields = Ticket.known_fields | {"tickets", "k"}

    def _check_shape(self) -> None:
        if self.tickets is None:
            super()._check_shape()
            return
        fields = [field for form in Ticket.forms.values() for field in form]
        beside = [name for name in fields if getattr(self, name) is not None]
        if beside:
            raise ValueError(
                f"a batch puts ticket fields inside 'tickets', not beside it: {beside}"
            )

    def __repr__(self) -> str:
        if self.tickets is None:
            return super().__repr__()
        return f"PredictRequest(tickets=[{len(self.tickets)} tickets], k={self.k})"

    @property
    def is_batch(self) -> bool:
        return self.tickets is not None

    def all_tickets(self) -> list[Ticket]:
        return list(self.tickets) if self.tickets is not None else [self]


_PROBABILITY = "The model's own probability for this priority (uncalibrated softmax)."
_CALIBRATED = (
    "The calibrated probability that this priority is right (temperature-scaled softmax, "
    "fitted on data the model did not train on, postprocessing.json); null if the model has "
    "no post-processing."
)
_CONFIDENCE = (
    "The answer's calibrated confidence: how often answers given with this confidence were "
    "right on the tickets the post-processing was fitted on (a top-label calibration of the "
    "priority's calibrated probability; that probability itself for a postprocessing.json of "
    "format 1); null if the model has no post-processing."
)


#: Answers are described as they are sent: every field always present (null where the
#: model cannot fill it), so a client generated from the document may rely on each.
ANSWER_CONFIG = ConfigDict(
    json_schema_mode_override="serialization", json_schema_serialization_defaults_required=True
)


class RankedPriority(BaseModel):
    model_config = ANSWER_CONFIG

    priority: str = Field(description="A priority name of the model's scheme.")
    probability: float = Field(ge=0, le=1, description=_PROBABILITY)
    calibrated_probability: float | None = Field(ge=0, le=1, description=_CALIBRATED)


class Prediction(BaseModel):
    model_config = ANSWER_CONFIG

    priority: str = Field(
        description="The predicted priority: the model's top label after the prior correction, "
        "by the name the model's scheme gives it (e.g. Major in the apache scheme, High in "
        "jira-cloud)."
    )
    label: str = Field(
        pattern=r"^__label__[1-9][0-9]*$",
        description="The BlazingText label, __label__1 (the scheme's lowest priority) upwards.",
    )
    probability: float = Field(ge=0, le=1, description=_PROBABILITY)
    calibrated_probability: float | None = Field(ge=0, le=1, description=_CONFIDENCE)
    confident: bool | None = Field(
        description="Whether calibrated_probability reaches the model's confidence threshold, "
        "chosen on validation data for a stated precision (see the README); null if the model "
        "has none."
    )
    action: Action | None = Field(
        default=None,
        description="What a Jira rule should do: 'set' the priority (a confident answer other "
        "than the scheme's default priority), 'keep' the default (a confident answer equal to "
        "it), or 'triage' (leave the ticket to a person); null if the model has no "
        "post-processing.",
    )
    urgency: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="The calibrated probability that the right priority is above the scheme's "
        "default (apache: Critical or Blocker rather than Major); null if the model has no "
        "post-processing.",
    )
    ranking: list[RankedPriority] = Field(
        min_length=1,
        max_length=MAX_K,
        description="The k best priorities, in the order of the prior-corrected scores.",
    )
    model: str = Field(description="The endpoint name or model id that answered.")


class BatchPrediction(BaseModel):
    model_config = ANSWER_CONFIG

    predictions: list[Prediction] = Field(
        min_length=1, description="One prediction per ticket, in request order."
    )


class HealthStatus(BaseModel):
    model_config = ANSWER_CONFIG

    status: Literal["ok", "unavailable"]
    backend: str = Field(description="sagemaker or embedded.")
    model: str = Field(description="The endpoint name or model id.")
    ready: bool = Field(description="Whether the model can answer now.")


class ErrorDetail(BaseModel):
    model_config = ANSWER_CONFIG

    code: str = Field(description="What went wrong, e.g. invalid_request or invalid_api_key.")
    message: str = Field(description="What to change, for a person; never internal details.")


class ErrorBody(BaseModel):
    """Every error's body, the function's and API Gateway's own alike."""

    model_config = ANSWER_CONFIG

    error: ErrorDetail
