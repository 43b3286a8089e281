"""The OpenAPI document, generated from the routes and models: ``make openapi``.

powertools derives paths, bodies and schemas from the code; the facts it
cannot see are added here: every route needs the ``x-api-key`` header (API
Gateway checks it and answers 403 itself), any route may answer 500 (the
catch-all handler in app.py), ``POST /predict`` also takes ``text/plain``, and
validation errors are answered 400 (handled in app.py), never 422. Schemas
nothing refers to any more are dropped, so every ``$ref`` resolves.
"""

from __future__ import annotations

import json
from typing import Any

from jira_priority import __version__
from jira_priority.app import app

API_KEY_SCHEME = {"type": "apiKey", "in": "header", "name": "x-api-key"}
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
#: Answers every route may give that no route declares.
EVERY_ROUTE = {
    "403": "Missing or invalid x-api-key, or no such route (API Gateway's own answer)",
    "500": "An unexpected error in the function (internal_error)",
}


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(title="Jira priority prediction", version=__version__)
    )
    document.setdefault("components", {})["securitySchemes"] = {"apiKey": API_KEY_SCHEME}
    document["security"] = [{"apiKey": []}]
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            responses.pop("422", None)
            for status, description in EVERY_ROUTE.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR_BODY}},
                }
            operation["responses"] = dict(sorted(responses.items()))
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]
    body["text/plain"] = {"schema": {"type": "string", "description": "The ticket's text."}}
    _drop_unreferenced_schemas(document)
    return document


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


if __name__ == "__main__":
    print(json.dumps(openapi_document(), indent=2))
