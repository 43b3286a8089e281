"""The whole life of a model, as separate processes, against moto_server on 127.0.0.1.

prepare -> upload -> train -> tune -> deploy (autoscaled) -> the Lambda handler
answers a prediction through the new endpoint -> teardown leaves no endpoint,
endpoint config, model, scalable target or scaling policy behind. Every step is
``python -m training_jobs ...`` in its own process with ``AWS_ENDPOINT_URL``
pointing at the server, as a user would run it.

What moto cannot show: it runs no container, so training produces no real
model.bin and the endpoint's answer is one queued through moto's
``/moto-api/static/sagemaker/endpoint-results``; its tuning jobs finish at
once and always name "FakeTrainingJobName" as the best job (so the deploy
here is from the training job; deploying a tuning job's best job is covered
in tests/unit/sagemaker/test_deploy.py); it has no UpdateEndpoint or
StopTrainingJob, which tests/unit cover with a Stubber.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest

from tests.integration.processes import free_port, stop_process

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT.parent / "shared" / "data" / "jira" / "apache_bugs.csv.gz"
MOTO_SERVER = Path(sys.executable).parent / "moto_server"
REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/JiraPrioritySageMaker"
BUCKET = "jira-priority-lifecycle"
ENDPOINT = "jira-priority-it"
STEP_TIMEOUT = 120

#: Runs the Lambda handler once in a fresh interpreter: event file in, response JSON out.
INVOKE_HANDLER = """
import json, sys
from jira_priority.app import lambda_handler

class Context:
    function_name = "jira-priority-predict"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:jira-priority-predict"
    aws_request_id = "lifecycle-test"
    def get_remaining_time_in_millis(self):
        return 25000

with open(sys.argv[1], encoding="utf-8") as handle:
    event = json.load(handle)
print(json.dumps(lambda_handler(event, Context())))
"""


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        stop_process(server)


@pytest.fixture(scope="module")
def environment(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAGEMAKER_ROLE_ARN": ROLE_ARN,
            "SAGEMAKER_BUCKET": BUCKET,
        }
    )
    return env


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in its own process from the repository root, output captured."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )


def tool(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m training_jobs ARGV`` in its own process; fails the test on a non-zero exit."""
    done = run_python(env, "-m", "training_jobs", *argv)
    assert done.returncode == 0, f"{argv[0]} failed: {done.stderr}"
    return done


def client(service: Literal["sagemaker", "s3", "application-autoscaling"], moto_url: str) -> Any:
    """A client of the test itself (not of the tool) for checking what exists on the server."""
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def sample_tickets(path: Path, rows: int) -> Path:
    """The first ``rows`` real tickets of the shared data set, in the tutorial's layout."""
    if not DATA.exists():
        pytest.skip(f"{DATA} is not present")
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        with path.open("w", encoding="utf-8", newline="") as target:
            writer = csv.writer(target, quoting=csv.QUOTE_ALL)
            for index, record in enumerate(reader):
                if index > rows:
                    break
                writer.writerow(record)
    return path


def queue_endpoint_answer(moto_url: str, answer: list[dict[str, Any]]) -> None:
    """What BlazingText would answer, queued in moto's sagemaker-runtime."""
    payload = {
        "region": REGION,
        "results": [{"Body": json.dumps(answer), "ContentType": "application/json"}],
    }
    request = urllib.request.Request(
        f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def invoke_handler(env: dict[str, str], event_file: Path) -> dict[str, Any]:
    lambda_env = dict(env)
    lambda_env.update(
        {
            "PREDICTOR_BACKEND": "sagemaker",
            "SAGEMAKER_ENDPOINT_NAME": ENDPOINT,
            "POWERTOOLS_SERVICE_NAME": "jira-priority",
            "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
            "POWERTOOLS_TRACE_DISABLED": "1",
        }
    )
    done = run_python(lambda_env, "-c", INVOKE_HANDLER, str(event_file))
    assert done.returncode == 0, done.stderr
    response: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return response


def test_from_jira_csv_to_live_endpoint_and_back_to_nothing(
    moto_url: str, environment: dict[str, str], tmp_path: Path
) -> None:
    env = environment
    sagemaker = client("sagemaker", moto_url)
    client("s3", moto_url).create_bucket(Bucket=BUCKET)

    # prepare: a Jira CSV becomes BlazingText train/validation files
    tickets = sample_tickets(tmp_path / "tickets.csv", rows=300)
    data_dir = tmp_path / "data"
    tool(env, "prepare", str(tickets), "--output-dir", str(data_dir))
    train_file, validation_file = data_dir / "train.txt", data_dir / "validation.txt"
    assert train_file.read_text(encoding="utf-8").startswith("__label__")

    # upload
    uploaded = tool(env, "upload", "--train", str(train_file), "--validation", str(validation_file))
    channels = dict(line.split("\t") for line in uploaded.stdout.splitlines())
    assert channels == {
        "train": f"s3://{BUCKET}/jira-priority/data/train/",
        "validation": f"s3://{BUCKET}/jira-priority/data/validation/",
        "tuning-validation": f"s3://{BUCKET}/jira-priority/data/tuning-validation/",
    }

    # train
    trained = tool(env, "train", "--job-name", "lifecycle-train", "--poll-seconds", "0.2")
    assert trained.stdout.strip() == "lifecycle-train"
    assert "training job lifecycle-train: Completed" in trained.stderr
    job = sagemaker.describe_training_job(TrainingJobName="lifecycle-train")
    assert {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]
    } == {"train": channels["train"], "validation": channels["validation"]}

    # tune
    tuned = tool(
        env, "tune", "--job-name", "lifecycle-tune", "--max-jobs", "4", "--max-parallel-jobs", "2",
        "--poll-seconds", "0.2",
    )  # fmt: skip
    assert "best training job:" in tuned.stderr
    tuning = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="lifecycle-tune"
    )
    assert tuning["HyperParameterTuningJobConfig"]["Strategy"] == "Bayesian"
    # class-balanced: there validation:accuracy is balanced accuracy
    validation_channel = tuning["TrainingJobDefinition"]["InputDataConfig"][1]
    balanced = channels["tuning-validation"]
    assert validation_channel["DataSource"]["S3DataSource"]["S3Uri"] == balanced

    # deploy, autoscaled between 1 and 2 instances
    deployed = tool(
        env, "deploy", "--training-job", "lifecycle-train", "--endpoint-name", ENDPOINT,
        "--poll-seconds", "0.2", "--min-instances", "1", "--max-instances", "2",
    )  # fmt: skip
    assert deployed.stdout.strip() == ENDPOINT
    scaling = client("application-autoscaling", moto_url)
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert target["ResourceId"] == f"endpoint/{ENDPOINT}/variant/AllTraffic"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    endpoint = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointStatus"] == "InService"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == job["ModelArtifacts"]["S3ModelArtifacts"]

    # the Lambda handler, pointed at the same server, answers through the new endpoint
    queue_endpoint_answer(moto_url, [{"label": ["__label__5"], "prob": [0.87]}])
    response = invoke_handler(env, REPO_ROOT / "events" / "predict-title-description.json")
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["priority"] == "Critical"
    assert body["label"] == "__label__5"
    assert body["model"] == ENDPOINT

    # status shows the endpoint and its autoscaling
    status = json.loads(tool(env, "status", "--endpoint", ENDPOINT).stdout)
    assert status["status"] == "InService"
    assert [(a["min_instances"], a["max_instances"]) for a in status["autoscaling"]] == [(1, 2)]

    # teardown leaves nothing that exists or runs
    torn = tool(env, "teardown", "--endpoint-name", ENDPOINT)
    assert torn.stdout == ""
    assert "nothing left" in torn.stderr
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []
    assert scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    assert scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []
    assert tool(env, "teardown").stdout == ""
