"""Helpers the tests share; fixtures that use them live in the conftest.py files."""
