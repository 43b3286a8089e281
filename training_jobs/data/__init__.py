"""Tickets in: readers (CSV, Jira export, JSON lines), prepare (filter, split), manifest."""
