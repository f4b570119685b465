"""Validation service: checks arriving data against model-spec expectations."""
