"""Tickets in: readers, the Jira REST fetch, priority schemes, prepare."""
