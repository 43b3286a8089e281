"""The BlazingText container image of each region.

BlazingText is a built-in algorithm: its image lives in an ECR registry that
AWS owns, in a different account in every region. The accounts are the ones
AWS publishes ("Docker Registry Paths and Example Code", and the SageMaker
Python SDK's ``image_uri_config/blazingtext.json``); the same image trains and
serves. A region missing here, or a private copy of the image, is handled
with ``--image-uri``.
"""

from __future__ import annotations

from training_jobs.errors import CommandError

REPOSITORY = "blazingtext"
#: BlazingText has a single published version; its tag is "1".
TAG = "1"

#: Region -> AWS account that hosts the BlazingText image there.
REGISTRY_ACCOUNTS: dict[str, str] = {
    "af-south-1": "455444449433",
    "ap-east-1": "286214385809",
    "ap-northeast-1": "501404015308",
    "ap-northeast-2": "306986355934",
    "ap-northeast-3": "364406365360",
    "ap-south-1": "991648021394",
    "ap-southeast-1": "475088953585",
    "ap-southeast-2": "544295431143",
    "ca-central-1": "469771592824",
    "cn-north-1": "390948362332",
    "cn-northwest-1": "387376663083",
    "eu-central-1": "813361260812",
    "eu-north-1": "669576153137",
    "eu-south-1": "257386234256",
    "eu-west-1": "685385470294",
    "eu-west-2": "644912444149",
    "eu-west-3": "749696950732",
    "me-south-1": "249704162688",
    "sa-east-1": "855470959533",
    "us-east-1": "811284229777",
    "us-east-2": "825641698319",
    "us-gov-west-1": "226302683700",
    "us-west-1": "632365934929",
    "us-west-2": "433757028032",
}


def _dns_suffix(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def blazingtext_image_uri(region: str, override: str | None = None) -> str:
    """The BlazingText image URI for ``region``, or ``override`` when one is given."""
    if override:
        return override
    try:
        account = REGISTRY_ACCOUNTS[region]
    except KeyError:
        raise CommandError(
            f"no published BlazingText image for region {region!r}; "
            "pass --image-uri <account>.dkr.ecr.<region>.amazonaws.com/blazingtext:1"
        ) from None
    return f"{account}.dkr.ecr.{region}.{_dns_suffix(region)}/{REPOSITORY}:{TAG}"
