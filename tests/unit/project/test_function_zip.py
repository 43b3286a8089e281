"""`make build` slims botocore to the services the function calls: safe, and only that.

``training_jobs.function_zip`` removes every other service's data and their
entries in endpoints.json. Safe when (1) the function's code makes clients of
those services only, and (2) the slim copy resolves every endpoint as the full
botocore does, in every partition. The built function's own tests (the Lambda
emulator and sam-local tests) call both services through the slim copy.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import botocore
import pytest
from training_jobs.function_zip import KEPT, trim_endpoints, trim_service_data

from jira_priority.aws_clients import SERVICES

SRC = Path(__file__).resolve().parents[3] / "src" / "jira_priority"
#: One region of each partition botocore ships, and a few of the commercial one.
REGIONS = [
    "us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "il-central-1", "cn-north-1",
    "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1",
]  # fmt: skip

RESOLVE = """
import json, sys
import botocore.session
from botocore.config import Config

CALLS = {
    "sagemaker-runtime": ("invoke_endpoint", {"EndpointName": "e", "Body": b"{}"}),
    "s3": ("head_object", {"Bucket": "my-bucket", "Key": "model.tar.gz"}),
}

class Sent(Exception):
    pass

def stop(request, **kwargs):  # the request as it would go on the wire, never sent
    raise Sent(request.url)

session = botocore.session.get_session()
urls = {}
for service in sys.argv[1].split(","):
    for region in sys.argv[2].split(","):
        for fips in (False, True):
            for dualstack in (False, True):
                key = f"{service} {region} fips={fips} dualstack={dualstack}"
                config = Config(use_fips_endpoint=fips, use_dualstack_endpoint=dualstack)
                try:
                    client = session.create_client(
                        service, region_name=region, config=config,
                        aws_access_key_id="x", aws_secret_access_key="y",
                    )
                except Exception as exc:
                    urls[key] = type(exc).__name__
                    continue
                client.meta.events.register("before-send", stop)
                operation, params = CALLS[service]
                try:
                    getattr(client, operation)(**params)
                    sent = "no request"
                except Sent as request:
                    sent = str(request)
                except Exception as exc:
                    sent = type(exc).__name__
                urls[key] = f"{client.meta.endpoint_url} {sent}"
print(json.dumps(urls))
"""


def _client_services_named_in(path: Path) -> set[str]:
    """First string arguments of create_client(...) and boto3.client(...) calls."""
    named = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = ast.unparse(node.func)
        if name in {"create_client", "boto3.client", "client"} or name.endswith(".create_client"):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                named.add(first.value)
    return named


def test_the_function_makes_clients_of_the_kept_services_only() -> None:
    named = set().union(*(_client_services_named_in(path) for path in SRC.rglob("*.py")))
    assert named == set(SERVICES)


def _resolve(pythonpath: Path, services: list[str]) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-S", "-c", RESOLVE, ",".join(services), ",".join(REGIONS)],
        env={"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    urls: dict[str, str] = json.loads(result.stdout)
    return urls


@pytest.fixture(scope="module")
def slim_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """botocore (and its dependencies) as `make build` leaves it in the zip."""
    code = tmp_path_factory.mktemp("code")
    site = Path(botocore.__file__).parents[1]
    for package in (
        "botocore",
        "dateutil",
        "jmespath",
        "urllib3",
        "six.py",
        "aws_xray_sdk",
        "wrapt",
    ):
        source = site / package
        if source.is_dir():
            shutil.copytree(source, code / package, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, code / package)
    trim_service_data(code)
    trim_endpoints(code)
    return code


def test_the_slim_copy_resolves_every_endpoint_as_the_full_botocore(slim_code: Path) -> None:
    full = _resolve(Path(botocore.__file__).parents[1], list(SERVICES))
    slim = _resolve(slim_code, list(SERVICES))
    assert slim == full
    assert full["sagemaker-runtime us-east-1 fips=False dualstack=False"] == (
        "https://runtime.sagemaker.us-east-1.amazonaws.com "
        "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/e/invocations"
    )
    assert full["s3 eu-west-1 fips=False dualstack=True"] == (
        "https://s3.dualstack.eu-west-1.amazonaws.com "
        "https://my-bucket.s3.dualstack.eu-west-1.amazonaws.com/model.tar.gz"
    )


def test_the_slim_copy_holds_nothing_else(slim_code: Path) -> None:
    data = slim_code / "botocore" / "data"
    assert sorted(p.name for p in data.iterdir() if p.is_dir()) == sorted(KEPT)
    endpoints = json.loads((data / "endpoints.json").read_text(encoding="utf-8"))
    assert {name for p in endpoints["partitions"] for name in p["services"]} <= {
        "runtime.sagemaker",
        "s3",
        "xray",
    }
    assert _resolve(slim_code, ["sts"]) == {
        f"sts {region} fips={fips} dualstack={dualstack}": "UnknownServiceError"
        for region in REGIONS
        for fips in (False, True)
        for dualstack in (False, True)
    }
    botocore_bytes = sum(
        f.stat().st_size for f in (slim_code / "botocore").rglob("*") if f.is_file()
    )
    assert botocore_bytes < 6_000_000


def test_the_x_ray_sdk_starts_outside_lambda_on_the_slim_copy(slim_code: Path) -> None:
    # Without LAMBDA_TASK_ROOT its default sampler makes an xray client at import.
    subprocess.run(
        [sys.executable, "-S", "-c", "import aws_xray_sdk.core"],
        env={
            "PYTHONPATH": str(slim_code),
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        check=True,
        capture_output=True,
    )
