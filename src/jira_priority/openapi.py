"""Print the OpenAPI document generated from the routes: ``make openapi``."""

from __future__ import annotations

from jira_priority import __version__
from jira_priority.app import app

if __name__ == "__main__":
    print(app.get_openapi_json_schema(title="Jira priority prediction", version=__version__))
