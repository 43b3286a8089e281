"""The BlazingText image URI is resolved per region from AWS's registry accounts."""

from __future__ import annotations

import pytest
from training_jobs.errors import CommandError
from training_jobs.sagemaker.images import REGISTRY_ACCOUNTS, blazingtext_image_uri


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-east-1", "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1"),
        ("us-west-2", "433757028032.dkr.ecr.us-west-2.amazonaws.com/blazingtext:1"),
        ("eu-west-1", "685385470294.dkr.ecr.eu-west-1.amazonaws.com/blazingtext:1"),
        ("eu-central-1", "813361260812.dkr.ecr.eu-central-1.amazonaws.com/blazingtext:1"),
        ("ap-southeast-2", "544295431143.dkr.ecr.ap-southeast-2.amazonaws.com/blazingtext:1"),
        ("cn-north-1", "390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/blazingtext:1"),
    ],
)
def test_image_uri_uses_the_regions_registry_account(region: str, expected: str) -> None:
    assert blazingtext_image_uri(region) == expected


def test_every_account_is_twelve_digits_and_distinct() -> None:
    accounts = list(REGISTRY_ACCOUNTS.values())
    assert all(len(a) == 12 and a.isdigit() for a in accounts)
    assert len(set(accounts)) == len(accounts)


def test_override_wins_over_the_registry() -> None:
    custom = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-blazingtext:2"
    assert blazingtext_image_uri("eu-west-1", custom) == custom
    assert blazingtext_image_uri("xx-nowhere-9", custom) == custom


def test_unknown_region_asks_for_an_override() -> None:
    with pytest.raises(CommandError, match="--image-uri"):
        blazingtext_image_uri("xx-nowhere-9")
