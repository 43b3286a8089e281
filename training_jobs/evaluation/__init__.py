"""Scoring a model, endpoint or HTTP API on labelled tickets: metrics, report and plots."""
