"""The OpenAPI document, generated from the routes and models: ``make openapi``.

powertools derives paths, bodies and schemas from the code; three facts it
cannot see are added here: every route needs the ``x-api-key`` header (API
Gateway checks it), ``POST /predict`` also takes ``text/plain``, and
validation errors are answered 400 (handled in app.py), never 422.
"""

from __future__ import annotations

import json
from typing import Any

from jira_priority import __version__
from jira_priority.app import app

API_KEY_SCHEME = {"type": "apiKey", "in": "header", "name": "x-api-key"}


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(title="Jira priority prediction", version=__version__)
    )
    document.setdefault("components", {})["securitySchemes"] = {"apiKey": API_KEY_SCHEME}
    document["security"] = [{"apiKey": []}]
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]
    body["text/plain"] = {"schema": {"type": "string", "description": "The ticket's text."}}
    for unused in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(unused, None)
    return document


if __name__ == "__main__":
    print(json.dumps(openapi_document(), indent=2))
