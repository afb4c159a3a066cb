"""Prefect flows for cwingest: thin wiring over :mod:`cwingest.pipeline`."""
