"""The tutorial's Lambda, the baseline of `make bench-serving`: nothing but the call.

As the tutorial wrote it: ``import boto3``, a module-level sagemaker-runtime
client, the request body sent as ``{"instances": [body]}`` and ``label[0]``
mapped to a priority. No validation, normalising, error mapping or
observability. For a batch the body is a JSON list of texts, sent as the
instances of the same one call.
"""

import json
import os

import boto3

ENDPOINT_NAME = os.environ["SAGEMAKER_ENDPOINT_NAME"]
runtime = boto3.client("sagemaker-runtime")
PRIORITIES = {
    "__label__1": "Optional",
    "__label__2": "Trivial",
    "__label__3": "Minor",
    "__label__4": "Major",
    "__label__5": "Critical",
    "__label__6": "Blocker",
}


def lambda_handler(event, context):  # type: ignore[no-untyped-def]
    body = event["body"]
    instances = json.loads(body) if body.startswith("[") else [body]
    response = runtime.invoke_endpoint(
        EndpointName=ENDPOINT_NAME,
        ContentType="application/json",
        Body=json.dumps({"instances": instances}),
    )
    result = json.loads(response["Body"].read().decode("utf-8"))
    priorities = [PRIORITIES[answer["label"][0]] for answer in result]
    answer = priorities if body.startswith("[") else priorities[0]
    return {"statusCode": 200, "body": json.dumps(answer)}
