"""The OpenAPI document, generated from the routes and models: ``make openapi``.

powertools derives paths, bodies and schemas from the code; the facts it
cannot see are added here: the request forms as an exact ``oneOf``
(``request_schema``), the ``x-api-key`` scheme on every route (API Gateway
checks it), the answers API Gateway gives itself before or instead of the
function (template.yaml's GatewayResponses give them the one error body), the
``text/plain`` alternative, an example of every request form, the limits of the
deployment's settings, and that validation errors are answered 400 (handled in
app.py), never 422. Schemas nothing refers to any more are dropped, so every
``$ref`` resolves.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

from jira_priority import __version__
from jira_priority.app import app
from jira_priority.errors import ConfigurationError
from jira_priority.request_schema import TEXT_WITH_A_WORD, exact_request_schemas, ref
from jira_priority.settings import Settings, load_settings

API_KEY_SCHEME = {"type": "apiKey", "in": "header", "name": "x-api-key"}
SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}]
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
#: What API Gateway answers itself, on every route, with the one error body (the
#: function's own answers of the same status are described by the route).
GATEWAY_ANSWERS = {
    "403": "API Gateway: no or a wrong x-api-key (invalid_api_key), or a path or method "
    "the API does not route (missing_authentication_token)",
    "413": "API Gateway: a body over its 10 MB (request_too_large)",
    "429": "API Gateway: over the usage plan's rate or burst (throttled, Retry-After: 1) "
    "or its quota (quota_exceeded)",
    "500": "The function failed unexpectedly (internal_error), or Lambda refused to run it "
    "(API Gateway: DEFAULT_5XX)",
    "502": "API Gateway: the function crashed or answered malformed (DEFAULT_5XX)",
    "504": "API Gateway: no answer within its 29 s (upstream_timeout)",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
DEFAULT_MAX_BATCH_SIZE: int = Settings.model_fields["max_batch_size"].default
DEFAULT_MAX_BODY_BYTES: int = Settings.model_fields["max_body_bytes"].default

#: One example of every request form: the document shows them and Schemathesis sends them.
JSON_EXAMPLES: dict[str, dict[str, Any]] = {
    "title": {
        "summary": "Title and description",
        "value": {
            "title": "NameNode crashes with NullPointerException on startup",
            "description": "After upgrading to 3.3.6 the NameNode fails to start.",
        },
    },
    "text": {
        "summary": "One text, three ranked priorities",
        "value": {"text": "Typo in the javadoc of StringUtils.join", "k": 3},
    },
    "jira_webhook": {
        "summary": "A Jira webhook payload (Jira Server: the description is wiki text)",
        "value": {
            "webhookEvent": "jira:issue_created",
            "issue": {
                "key": "HIVE-28123",
                "fields": {
                    "summary": "Query with lateral view returns wrong results",
                    "description": "Running a query with LATERAL VIEW explode() returns "
                    "duplicate rows.",
                    "priority": None,
                },
            },
        },
    },
    "jira_cloud_webhook": {
        "summary": "A Jira Cloud webhook payload (the description is an ADF document)",
        "value": {
            "webhookEvent": "jira:issue_created",
            "issue": {
                "key": "APP-12",
                "fields": {
                    "summary": "Export to PDF fails for project admins",
                    "description": {
                        "type": "doc",
                        "version": 1,
                        "content": [
                            {
                                "type": "paragraph",
                                "content": [{"type": "text", "text": "Access denied."}],
                            }
                        ],
                    },
                },
            },
        },
    },
    "batch": {
        "summary": "A batch of every form, answered in order",
        "value": {
            "tickets": [
                {"title": "Broker runs out of memory", "description": "OOM after 2 hours"},
                {"text": "Misspelled word in a log message"},
                {"issue": {"key": "YARN-11111", "fields": {"summary": "ResourceManager hangs"}}},
            ],
            "k": 2,
        },
    },
}
TEXT_EXAMPLES = {
    "text": {
        "summary": "The ticket's text as the whole body",
        "value": "Web UI shows the wrong timezone in the job history page",
    }
}


def openapi_document(
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> dict[str, Any]:
    """The document of a deployment whose MAX_BATCH_SIZE and MAX_BODY_BYTES are these."""
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(title="Jira priority prediction", version=__version__)
    )
    document.setdefault("components", {})["securitySchemes"] = {"apiKey": API_KEY_SCHEME}
    document["security"] = SECURITY
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["security"] = SECURITY
            operation["responses"] = _with_gateway_answers(operation["responses"])
    exact_request_schemas(document["components"]["schemas"], max_batch_size)
    body = document["paths"]["/predict"]["post"]["requestBody"]
    body["description"] = (
        f"One ticket or a batch, at most {max_body_bytes} bytes (MAX_BODY_BYTES; larger is "
        "413), JSON nested at most 64 levels."
    )
    body["content"]["application/json"]["examples"] = JSON_EXAMPLES
    body["content"]["text/plain"] = {
        "schema": ref(TEXT_WITH_A_WORD)
        # Every character is at least one byte of the UTF-8 body.
        | {"maxLength": max_body_bytes, "description": "The ticket's text, read as a `text`."},
        "examples": TEXT_EXAMPLES,
    }
    _drop_unreferenced_schemas(document)
    return copy.deepcopy(document)  # nothing in it shared with this module's constants


def _with_gateway_answers(responses: dict[str, Any]) -> dict[str, Any]:
    """The route's responses, 422 dropped, API Gateway's own answers added, sorted."""
    responses.pop("422", None)
    for status, description in GATEWAY_ANSWERS.items():
        if status in responses:
            responses[status]["description"] += f"; or {description}"
        else:
            responses[status] = {
                "description": description,
                "content": {"application/json": {"schema": ERROR_BODY}},
            }
    for status, response in responses.items():
        # The function's 503 errors say when to retry; /health's 503 is its status body.
        if status == "429" or (status == "503" and _is_error_body(response)):
            response["headers"] = RETRY_AFTER
    return dict(sorted(responses.items()))


def _is_error_body(response: dict[str, Any]) -> bool:
    return bool(response.get("content", {}).get("application/json", {}).get("schema") == ERROR_BODY)


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    """Remove the schemas no path (or used schema) refers to, such as the 422 bodies."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    prefix = "#/components/schemas/"
    used: set[str] = set()
    pending = [json.dumps(document["paths"])]
    while pending:
        text = pending.pop()
        for name in schemas:
            if name not in used and f'"{prefix}{name}"' in text:
                used.add(name)
                pending.append(json.dumps(schemas[name]))
    for name in set(schemas) - used:
        del schemas[name]


def main() -> None:
    """Print the document for the settings of the environment (MAX_BATCH_SIZE, ...)."""
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        sys.exit(f"openapi: {exc.public_message}")
    document = openapi_document(settings.max_batch_size, settings.max_body_bytes)
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
