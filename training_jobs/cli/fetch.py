"""``fetch``: the issues a JQL query selects, from a Jira site into the JSON lines prepare reads."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(
    "fetch",
    short_help="pull the issues a JQL query selects from Jira Cloud or Data Center into JSON lines",
)
@click.option(
    "--site",
    required=True,
    envvar="JIRA_SITE",
    show_envvar=True,
    help="the site's URL, e.g. https://acme.atlassian.net",
)
@click.option(
    "--jql",
    required=True,
    help="which issues, e.g. 'project = ACME AND issuetype = Bug AND priority IS NOT EMPTY "
    "ORDER BY key' (an ORDER BY keeps Data Center's pages stable while issues are created)",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the JSON-lines file to write",
)
@click.option(
    "--api",
    type=click.Choice(["auto", "cloud", "datacenter"]),
    default="auto",
    show_default=True,
    help="cloud: JIRA_EMAIL + JIRA_API_TOKEN; datacenter: JIRA_PAT; auto: from the variables set",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 100),
    default=100,
    show_default=True,
    help="issues per request",
)
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True,
    help="seconds per request",
)  # fmt: skip
@click.option(
    "--restart",
    is_flag=True,
    help="fetch everything again, replacing OUTPUT and forgetting an interrupted run",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(0, 21600),
    default=300.0,
    show_default=True,
    help="longest Retry-After to wait (seconds); the site asking for longer stops the fetch",
)
@click.option(
    "--allow-insecure-http",
    is_flag=True,
    help="allow an http:// --site that is not this machine (credentials in clear text)",
)
def command(
    site: str,
    jql: str,
    output: Path,
    api: str,
    page_size: int,
    timeout: float,
    restart: bool,
    max_wait: float,
    allow_insecure_http: bool,
) -> int:
    """Pull the issues a JQL query selects from Jira Cloud (/rest/api/3/search/jql, e-mail and
    API token from JIRA_EMAIL and JIRA_API_TOKEN) or Jira Data Center (/rest/api/2/search, a
    personal access token from JIRA_PAT) into the JSON lines prepare reads. A token missing
    from the environment is asked for on a terminal; credentials are never options and never
    written anywhere, never follow a redirect to another origin, and never go over plain http
    to another machine without --allow-insecure-http. Honours 429 and Retry-After (up to
    --max-wait), retries 5xx, stops a server that does not page, and resumes an interrupted
    run from its last complete page."""
    import getpass
    import os
    import sys

    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "requests")
    from training_jobs.console import say
    from training_jobs.data.jira_fetch import (
        FetchError,
        FetchRequest,
        JiraApi,
        credentials_from_environment,
        fetch_issues,
    )

    prompt = getpass.getpass if sys.stdin.isatty() else None
    try:
        credentials = credentials_from_environment(
            os.environ, JiraApi(api) if api != "auto" else None, prompt
        )
        request = FetchRequest(
            site,
            jql,
            output,
            credentials,
            page_size,
            timeout,
            restart,
            max_wait=max_wait,
            allow_insecure_http=allow_insecure_http,
        )
        result = fetch_issues(request, progress=say)
    except FetchError as error:
        raise CommandError(str(error)) from None
    if result.issues == 0:
        raise CommandError(
            f"the JQL matched no issue the account can see ({jql!r}); {output} is empty"
        )
    skipped = result.skipped_duplicates
    print(
        f"fetched {result.issues} issues in {result.pages} pages into {output}"
        + (" (resumed)" if result.resumed else "")
        + (f", {skipped} repeated issues skipped" if skipped else "")
    )
    return 0
