"""Adapters of the audit sink."""
