"""Tooling for the whole life of the priority model: the ``jira-priority`` command line."""
