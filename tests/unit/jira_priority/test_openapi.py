"""The OpenAPI document is generated from the routes and models, not written by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from openapi_spec_validator import validate

from jira_priority.openapi import openapi_document
from tests.support.events import REPO_ROOT

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def test_predict_takes_json_or_plain_text() -> None:
    body = openapi_document()["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/PredictRequest"}
    assert body["text/plain"]["schema"]["type"] == "string"


def test_every_error_status_has_the_error_body() -> None:
    responses = openapi_document()["paths"]["/predict"]["post"]["responses"]
    assert set(responses) == {"200", "400", "403", "413", "415", "429", "500", "502", "503", "504"}
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
    assert set(document["paths"]["/health"]["get"]["responses"]) == {"200", "403", "500", "503"}


def test_the_document_is_valid_openapi() -> None:
    validate(openapi_document())  # raises on a dangling $ref or a malformed document


def test_make_openapi_prints_a_valid_document() -> None:
    # GIVEN the command and environment of `make openapi`
    env = {
        **os.environ,
        "PREDICTOR_BACKEND": "sagemaker",
        "SAGEMAKER_ENDPOINT_NAME": "openapi",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }
    # WHEN it runs
    result = subprocess.run(
        [sys.executable, "-m", "jira_priority.openapi"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a budget: it takes about 1 s
        check=True,
    )
    # THEN stdout is one valid document, error statuses included
    document = json.loads(result.stdout)
    validate(document)
    assert {"403", "500"} <= set(document["paths"]["/predict"]["post"]["responses"])
