"""The repository's paths, the one event loader, and a Lambda context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = REPO_ROOT / "events"
TEST_ENDPOINT = "jira-priority-test"


def load_event(name: str) -> dict[str, Any]:
    """events/NAME.json, the same file `sam local invoke -e` takes."""
    with (EVENTS_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        event: dict[str, Any] = json.load(handle)
    return event


def event_names() -> list[str]:
    return sorted(path.stem for path in EVENTS_DIR.glob("*.json"))


@dataclass
class FakeLambdaContext:
    function_name: str = "jira-priority-predict"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:jira-priority-predict"
    )
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000
