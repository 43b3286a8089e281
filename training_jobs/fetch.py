"""``fetch``: the issues a JQL query selects, from a Jira site into the JSON lines prepare reads.

Jira Cloud (``/rest/api/3/search/jql``, e-mail and API token from JIRA_EMAIL
and JIRA_API_TOKEN) or Jira Data Center / Server (``/rest/api/2/search``, a
personal access token from JIRA_PAT); a token missing from the environment is
asked for when a terminal is attached. Credentials are never options (they
would show in ``ps``) and never written anywhere. Honours 429 and Retry-After,
retries 5xx, and resumes an interrupted run from its last complete page.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from training_jobs.console import doc_summary, fail, say


def run(args: argparse.Namespace) -> int:
    # Imported here: requests is needed by this command only.
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
            os.environ, JiraApi(args.api) if args.api != "auto" else None, prompt
        )
        request = FetchRequest(
            site=args.site,
            jql=args.jql,
            output=Path(args.output),
            credentials=credentials,
            page_size=args.page_size,
            timeout=args.timeout,
            restart=args.restart,
        )
        result = fetch_issues(request, progress=say)
    except FetchError as exc:
        return fail("fetch", str(exc))
    if result.issues == 0:
        return fail(
            "fetch",
            f"the JQL matched no issue the account can see ({args.jql!r}); {args.output} is empty",
        )
    duplicates = (
        f", {result.skipped_duplicates} repeated issues skipped"
        if result.skipped_duplicates
        else ""
    )
    print(
        f"fetched {result.issues} issues in {result.pages} pages into {args.output}"
        f"{' (resumed)' if result.resumed else ''}{duplicates}"
    )
    return 0


def _page_size(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 100:
        raise argparse.ArgumentTypeError("must be 1..100 (Jira's most issues per page with fields)")
    return number


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fetch",
        help="pull the issues a JQL query selects from Jira Cloud or Data Center into JSON lines",
        description=doc_summary(__doc__),
    )
    parser.add_argument(
        "--site", required=True, help="the site's URL, e.g. https://acme.atlassian.net"
    )
    parser.add_argument(
        "--jql",
        required=True,
        help="which issues, e.g. 'project = ACME AND issuetype = Bug AND priority IS NOT EMPTY "
        "ORDER BY key' (an ORDER BY keeps Data Center's pages stable while issues are created)",
    )
    parser.add_argument("-o", "--output", required=True, help="the JSON-lines file to write")
    parser.add_argument(
        "--api",
        choices=("auto", "cloud", "datacenter"),
        default="auto",
        help="cloud: e-mail + API token; datacenter: personal access token "
        "(default auto: from the variables that are set)",
    )
    parser.add_argument(
        "--page-size", type=_page_size, default=100, help="issues per request (default: 100)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds per request (default: 30)"
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="fetch everything again, replacing OUTPUT and forgetting an interrupted run",
    )
    parser.set_defaults(handler=run)
