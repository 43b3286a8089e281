"""The OpenAPI document is generated from the routes and models, not written by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from openapi_spec_validator import validate

from jira_priority.openapi import openapi_document
from jira_priority.request_schema import word_character_class
from tests.support.events import REPO_ROOT
from tests.support.sam_template import load_template

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def test_predict_takes_json_or_plain_text() -> None:
    body = openapi_document()["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/PredictRequest"}
    assert body["text/plain"]["schema"]["$ref"] == "#/components/schemas/TextWithAWord"
    assert body["text/plain"]["schema"]["maxLength"] == 1_048_576  # MAX_BODY_BYTES


def test_the_request_is_one_of_its_forms() -> None:
    schemas = openapi_document()["components"]["schemas"]
    refs = [branch["$ref"].rsplit("/", 1)[1] for branch in schemas["PredictRequest"]["oneOf"]]
    assert refs == ["TitleRequest", "TextRequest", "JiraIssueRequest", "BatchRequest"]
    items = [branch["$ref"].rsplit("/", 1)[1] for branch in schemas["Ticket"]["oneOf"]]
    assert items == ["TitleTicket", "TextTicket", "JiraIssueTicket"]
    assert schemas["TextWithAWord"] == {
        "type": "string",
        "minLength": 1,
        "pattern": word_character_class(),
        "description": schemas["TextWithAWord"]["description"],
    }
    assert schemas["TextRequest"]["additionalProperties"] is False
    assert schemas["JiraIssueRequest"]["additionalProperties"] is True  # a whole webhook body


def test_the_batch_bound_is_the_deployments() -> None:
    schemas = openapi_document(max_batch_size=7)["components"]["schemas"]
    tickets = schemas["BatchRequest"]["properties"]["tickets"]
    assert (tickets["minItems"], tickets["maxItems"]) == (1, 7)
    k = schemas["BatchRequest"]["properties"]["k"]
    assert (k["type"], k["minimum"], k["maximum"]) == ("integer", 1, 6)


def test_every_error_status_has_the_error_body() -> None:
    responses = openapi_document()["paths"]["/predict"]["post"]["responses"]
    assert set(responses) == {"200", "400", "403", "413", "415", "429", "500", "502", "503", "504"}
    for status in set(responses) - {"200"}:
        assert responses[status]["content"]["application/json"]["schema"] == ERROR_BODY


@pytest.mark.parametrize("path", ["/predict", "/health"])
def test_every_route_lists_api_gateways_own_answers(path: str) -> None:
    (operation,) = openapi_document()["paths"][path].values()
    for status in ("403", "413", "429", "502", "504"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == ERROR_BODY
        assert "API Gateway" in operation["responses"][status]["description"]
    assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_the_template_gateway_responses_are_all_documented() -> None:
    # The statuses API Gateway gives its named responses (template.yaml changes none of them).
    statuses = {
        "INVALID_API_KEY": "403",
        "MISSING_AUTHENTICATION_TOKEN": "403",
        "REQUEST_TOO_LARGE": "413",
        "THROTTLED": "429",
        "QUOTA_EXCEEDED": "429",
        "INTEGRATION_TIMEOUT": "504",
    }
    api = load_template()["Resources"]["PriorityApi"]["Properties"]
    named = set(api["GatewayResponses"]) - {"DEFAULT_4XX", "DEFAULT_5XX"}
    assert named == set(statuses)
    for operations in openapi_document()["paths"].values():
        for operation in operations.values():
            assert {statuses[name] for name in named} <= set(operation["responses"])


def test_no_422_is_promised() -> None:
    document = openapi_document()
    assert "422" not in json.dumps(document["paths"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_api_key_is_required_on_every_route() -> None:
    document = openapi_document()
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert document["security"] == [{"apiKey": []}]
    for operations in document["paths"].values():
        for operation in operations.values():
            assert operation["security"] == [{"apiKey": []}]


def test_answers_carry_every_field_nullable_where_a_model_may_not_fill_it() -> None:
    schemas = openapi_document()["components"]["schemas"]
    prediction = schemas["Prediction"]
    assert set(prediction["required"]) == set(prediction["properties"])
    assert prediction["properties"]["action"]["anyOf"] == [
        {"type": "string", "enum": ["set", "keep", "triage"]},
        {"type": "null"},
    ]
    assert prediction["properties"]["urgency"]["anyOf"] == [
        {"type": "number", "minimum": 0, "maximum": 1},
        {"type": "null"},
    ]
    ranked = schemas["RankedPriority"]
    assert set(ranked["required"]) == set(ranked["properties"])


def test_health_answers() -> None:
    document = openapi_document()
    assert set(document["paths"]["/health"]["get"]["responses"]) == {
        "200", "403", "413", "429", "500", "502", "503", "504"
    }  # fmt: skip


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


def test_make_openapi_documents_the_configured_batch_size() -> None:
    env = {
        **os.environ,
        "PREDICTOR_BACKEND": "sagemaker",
        "SAGEMAKER_ENDPOINT_NAME": "openapi",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "MAX_BATCH_SIZE": "40",
    }
    result = subprocess.run(
        [sys.executable, "-m", "jira_priority.openapi"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    schemas = json.loads(result.stdout)["components"]["schemas"]
    assert schemas["BatchRequest"]["properties"]["tickets"]["maxItems"] == 40
