"""Predict the priority of a Jira bug report from its text."""

__version__ = "0.1.0"
