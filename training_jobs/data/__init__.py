"""Tickets in: readers (tutorial CSV, Jira export, JSON lines), and prepare (filter, split)."""
