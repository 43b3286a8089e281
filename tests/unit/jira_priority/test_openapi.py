"""The OpenAPI document is generated from the routes and models, not written by hand."""

from __future__ import annotations

import json

from jira_priority.openapi import openapi_document

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def test_predict_takes_json_or_plain_text() -> None:
    body = openapi_document()["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/PredictRequest"}
    assert body["text/plain"]["schema"]["type"] == "string"


def test_every_error_status_has_the_error_body() -> None:
    responses = openapi_document()["paths"]["/predict"]["post"]["responses"]
    assert set(responses) == {"200", "400", "413", "415", "429", "502", "503", "504"}
    for status in set(responses) - {"200"}:
        assert responses[status]["content"]["application/json"]["schema"] == ERROR_BODY


def test_no_422_is_promised() -> None:
    document = openapi_document()
    assert "422" not in json.dumps(document["paths"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_api_key_is_required() -> None:
    document = openapi_document()
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert document["security"] == [{"apiKey": []}]


def test_request_fields_and_health() -> None:
    document = openapi_document()
    request = document["components"]["schemas"]["PredictRequest"]["properties"]
    assert {"title", "description", "text", "issue", "tickets", "k"} <= set(request)
    assert request["k"]["maximum"] == 6
    assert set(document["paths"]["/health"]["get"]["responses"]) == {"200", "503"}
