"""Evaluation: what can be scored, metrics, calibration, reports, plots."""
