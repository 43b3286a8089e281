"""The local HTTP server in front of ``lambda_handler``: API Gateway's part of the work.

``serve(ServeOptions(...))`` serves the function with the embedded model the
way API Gateway and ``sam local start-api`` do, on uvicorn with its h11
protocol: ``gateway`` (routes, API key, its own error answers, the proxy
event), ``function`` (one execution environment per process), ``asgi`` (the
checks on each request), ``protocol`` (connection cap, request deadline, JSON
answers to malformed requests) and ``server`` (start-up and worker processes).

Nothing is imported here: ``options`` (what ``jira-priority serve --help`` shows)
must not pull in uvicorn, which only the ``train`` extra installs.
"""
