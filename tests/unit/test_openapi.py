"""The OpenAPI document is generated from the routes and models, not written by hand."""

from __future__ import annotations

import json

from jira_priority.app import app


def test_openapi_document_describes_the_contract() -> None:
    document = json.loads(app.get_openapi_json_schema(title="Jira priority", version="test"))

    predict = document["paths"]["/predict"]["post"]
    body_schema = predict["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/PredictRequest"}
    assert {"200", "400", "413", "415", "429", "502", "503", "504"} <= set(predict["responses"])
    assert "get" in document["paths"]["/health"]
    request = document["components"]["schemas"]["PredictRequest"]["properties"]
    assert {"title", "description", "text", "issue", "tickets", "k"} <= set(request)
    assert request["k"]["maximum"] == 6
