"""Command-line tooling for the whole life of the priority model: ``python -m training_jobs``."""
